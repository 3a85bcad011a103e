"""Mutation testing of the modules that guard integrity and access (issue #19), one module at a time.

    make mutation                                   # every module below, then the score table
    .venv/bin/python tests/mutation/run.py claims forms   # only these, in this order; then the table of all
    .venv/bin/python tests/mutation/run.py --table  # the table of what the last runs found, running nothing
    .venv/bin/python tests/mutation/run.py --survivors claims  # only the mutants that survived last time

mutmut breaks the code one small change (a mutant) at a time and runs, for each, the tests that reach the
changed function, on SQLite only. Each module runs in its own folder, mutants/<module>/ (git-ignored), with
the shared settings of pyproject.toml's [tool.mutmut] plus that module's file and its own tests (MODULES
below), so a mutant of a function everything calls (`evaluate`, `append`) is judged by the module's tests,
not by the whole suite. A mutant the tests do not notice "survived": a test is missing, or the change means
the same (docs/testing.md records the scores and explains each kind of survivor). `cd mutants/<module> &&
../../.venv/bin/mutmut show NAME` shows one mutant's change; MUTATION_JOBS sets how many run at once
(default 2). Not part of `make test`: the whole run takes over an hour on two cores.
"""
from __future__ import annotations

import fnmatch
import json
import os
import platform
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTMUT = Path(sys.executable).with_name("mutmut")


@dataclass(frozen=True)
class Module:
    """One guarded module: its file, the tests that exercise it and, where only part of it guards access,
    those functions."""

    name: str
    path: str
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ("*",)
    optional: bool = False  # skipped where the file does not exist (yet)

    @property
    def dotted(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    @property
    def folder(self) -> Path:
        return ROOT / "mutants" / self.name.split()[0]

    @property
    def patterns(self) -> list[str]:
        return [f"{self.dotted}.{f}__mutmut_*" for f in self.functions]

    def owns(self, mutant: str) -> bool:
        return any(fnmatch.fnmatchcase(mutant, p) for p in self.patterns)


EXPRESSIONS_TESTS = ("tests/test_expressions.py", "tests/test_expression_functions.py", "tests/test_durations.py",
                     "tests/test_diagram_validation.py", "tests/test_yizheng_votes.py")
AUTHORISATION_TESTS = ("tests/test_claims.py", "tests/test_tasklist.py", "tests/test_read_only_auditors.py",
                       "tests/test_engine_basics.py", "tests/web/test_authorisation.py", "tests/web/test_cases.py",
                       "tests/web/test_tasklist.py")
FORMS_TESTS = ("tests/test_yizheng_forms.py", "tests/test_free_text.py", "tests/test_state_format.py",
               "tests/test_diagram_validation.py", "tests/web/test_taskpage.py", "tests/web/test_bad_input.py")
MODULES = (
    Module("expressions", "engine/bpmn/expressions.py", EXPRESSIONS_TESTS),
    Module("budget", "engine/bpmn/budget.py", EXPRESSIONS_TESTS + ("tests/test_expression_budget.py",),
           optional=True),  # the expressions' cost budget
    # forms.py only re-exports: what a form is (formfields), what is entered (formvalues), Minyi's own rules
    Module("formfields", "engine/bpmn/formfields.py", FORMS_TESTS),
    Module("formvalues", "engine/bpmn/formvalues.py", FORMS_TESTS),
    Module("formrules", "engine/bpmn/formrules.py", FORMS_TESTS + ("tests/test_form_date_limits.py",
                                                                 "tests/test_channel_ways.py",
                                                                 "tests/test_minqing_routing.py")),  # people
    # all but _append_only, which runs once at import, before mutmut can switch a mutant on: no test could
    # ever kill its mutants (tests/test_audit_chain.py checks that changes and deletions are refused)
    Module("audit_chain", "engine/store/audit_chain.py", ("tests/test_audit_chain.py",),
           ("x_utc_iso", "x_canonical", "x_event_hash", "x_global_hash", "x_append", "x_seed", "x_seed_global",
            "x_seed_locked", "x_lock_global_head")),
    Module("verify", "engine/audit/verify.py", ("tests/test_audit_chain.py", "tests/web/test_audit.py",
                                                "tests/test_designer_migration.py")),  # a migrated case's bundle
    # authorisation only: who may start, work on, claim, hand back, assign, see and write on a case
    Module("cases (authorisation)", "engine/work/cases.py", AUTHORISATION_TESTS,
           ("x__check_may_start", "x_may_start", "x_check_can_work", "x__designer_in_sandbox",
            "x__sandbox_version", "x_claim", "x_unclaim", "x_assign", "x_link_cases", "x_case_for")),
    Module("casepages (authorisation)", "engine/work/casepages.py", AUTHORISATION_TESTS,
           ("x_check_can_view", "x_may_act")),
    Module("tasklist (authorisation)", "engine/work/tasklist.py", AUTHORISATION_TESTS,
           ("x__base", "x__colleagues", "x_get_task")),
    Module("accounts", "engine/people/accounts.py",  # test_units_routing: 账户变更 within an auditor's units
           ("tests/test_accounts.py", "tests/test_account_grants.py", "tests/test_claims.py",
            "tests/web/test_accounts_pages.py", "tests/web/test_auth.py", "tests/test_units_routing.py")),
    Module("claims", "engine/people/claims.py",
           ("tests/test_claims.py", "tests/test_accounts.py", "tests/test_account_grants.py")),
    Module("publications", "engine/public/publications.py",  # test_communities: a unit's board
           ("tests/test_publications.py", "tests/web/test_board.py", "tests/test_yizheng_paths.py",
            "tests/test_communities.py")),
    Module("publishing", "engine/work/publishing.py",
           ("tests/test_publications.py", "tests/test_yizheng_paths.py", "tests/test_yizheng_votes.py")),
    # test_calendar_notices: `recompute`; test_worker_crash_safety: `fire_case`, `_postpone`; test_vitals: the worker
    Module("timers", "engine/work/timers.py",
           ("tests/test_timers_minqing.py", "tests/test_deadlines.py", "tests/test_minqing_paths.py",
            "tests/test_worker_outbox.py", "tests/test_calendar_notices.py", "tests/test_worker_crash_safety.py",
            "tests/test_vitals.py",
            "tests/test_audit_chain.py")),  # a timer batch continues each case's chain, its heads read at once
)
LINKED = ("engine", "tests", "web", "processes")  # what a module's folder sees of the project
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", None: "not checked",
          36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout"}
COLUMNS = ("mutants", "killed", "survived", "timeout", "no tests", "other")


def main(argv: list[str]) -> int:
    table_only = "--table" in argv
    survivors_only = "--survivors" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    unknown = [w for w in wanted if not any(m.name.startswith(w) for m in MODULES)]
    if unknown:
        print(f"unknown module(s) {unknown}; known: {', '.join(m.name for m in MODULES)}", file=sys.stderr)
        return 2
    present = [m for m in MODULES if (ROOT / m.path).exists()]
    chosen = [m for w in wanted for m in present if m.name.startswith(w)] if wanted else present
    if not table_only:
        for module in chosen:
            names = [n for n, s in results(module).items() if s in ("survived", "no tests")] if survivors_only \
                else module.patterns
            if names and run(module, names) != 0:
                return 1
    print_table(present)
    return 0


def run(module: Module, names: list[str]) -> int:
    """One `mutmut run` over these mutants (names or patterns) of the module, in its own folder; its output
    goes to mutants/<module>.log."""
    stage(module)
    env = dict(os.environ)
    env.setdefault("MINYI_SHARED", str(ROOT.parent / "shared"))  # the tests run two folders deeper
    jobs = env.get("MUTATION_JOBS", "2")
    log = module.folder.with_suffix(".log")
    started = datetime.now()
    print(f"{module.name}: mutating {module.path} … (log: {log.relative_to(ROOT)})", flush=True)
    with log.open("w") as out:
        code = subprocess.call([str(MUTMUT), "run", "--max-children", jobs, *names],
                               cwd=module.folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        print(f"{module.name}: mutmut failed (exit {code}); see {log}", file=sys.stderr)
    else:
        print(f"{module.name}: done in {(datetime.now() - started).seconds // 60} min", flush=True)
    return code


def stage(module: Module) -> None:
    """mutants/<module>/: links to the project and a pyproject.toml with the shared settings, the module's
    file to mutate and its tests (mutmut reads its settings from the folder it runs in)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    settings = {**project["tool"]["mutmut"], "only_mutate": [module.path],
                "pytest_add_cli_args_test_selection": list(module.tests)}
    module.folder.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = module.folder / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name)
    text = "# written by tests/mutation/run.py for one module's mutation run\n"
    pytest_settings = project["tool"]["pytest"]["ini_options"]
    for table, values in (("tool.mutmut", settings), ("tool.pytest.ini_options", pytest_settings)):
        text += f"\n[{table}]\n" + "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n"
                                           for key, value in values.items())
    (module.folder / "pyproject.toml").write_text(text)


def results(module: Module) -> dict[str, str]:
    """Each of the module's mutants and what became of it, as the last run recorded it."""
    meta = module.folder / "mutants" / f"{module.path}.meta"
    if not meta.exists():
        return {}
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    return {name: STATUS.get(code, "other") for name, code in codes.items() if module.owns(name)}


def print_table(modules: list[Module]) -> None:
    print(f"\nMutation scores, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()} "
          f"({os.cpu_count()} CPUs, Python {platform.python_version()}); score = (killed + timeout) / "
          "mutants checked\n")
    print("| module | " + " | ".join(COLUMNS) + " | score |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    survivors = []
    for module in modules:
        found = results(module)
        checked = {n: s for n, s in found.items() if s != "not checked"}
        counts = Counter(s if s in COLUMNS else "other" for s in checked.values())
        detected = counts["killed"] + counts["timeout"]
        score = f"{100 * detected / len(checked):.1f} %" if checked else "not run"
        print(f"| {module.name} | {len(checked)} | " + " | ".join(str(counts[c]) for c in COLUMNS[1:])
              + f" | {score} |")
        survivors += [n for n, s in checked.items() if s in ("survived", "no tests")]
    if survivors:
        print("\nSurvivors (`cd mutants/<module> && ../../.venv/bin/mutmut show NAME` shows the change):")
        for name in sorted(survivors):
            print(f"  {name}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
