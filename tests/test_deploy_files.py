"""What docs/deployment.md tells an operator to install is real: the systemd units pass `systemd-analyze verify`
with their ExecStart binary in place, the nginx sites pass `nginx -t` with a certificate in place, and every
`minyi` command and option the guide and the units name exists."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.conftest import IN_CI
from web.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
GUIDE = ROOT / "docs" / "deployment.md"
INSTALLED = "/opt/minyi"  # where the guide installs Minyi


def tool(name: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} is required under CI (make test installs it)")
        pytest.skip(f"{name} is not installed")
    return found


def as_installed_here(text: str) -> str:
    """The file with /opt/minyi replaced by this checkout and its virtualenv, which really exist."""
    minyi = Path(sys.executable).parent / "minyi"
    assert minyi.exists(), f"{minyi} is missing: install the project (make setup)"
    return text.replace(f"{INSTALLED}/.venv/bin/minyi", str(minyi)).replace(INSTALLED, str(ROOT))


def minyi_commands(text: str) -> list[str]:
    """Every `minyi <command> …` written in `text` (code blocks, inline code, unit files)."""
    names = "|".join(map(re.escape, main.commands))
    return [m.group(1) for m in re.finditer(rf"(?:^|[\s/(`'])minyi ((?:{names})\b[^`\n')]*)", text, flags=re.M)]


def check_command(line: str) -> None:
    """The words name a command of `minyi`, and each --option they use is one of its options."""
    words = [w for w in line.split("#")[0].split() if not w.startswith("$")]
    command: click.Command = main
    index = 0
    while index < len(words) and isinstance(command, click.Group) and words[index] in command.commands:
        command, index = command.commands[words[index]], index + 1
    assert not isinstance(command, click.Group), f"not a minyi command: minyi {line}"
    known = {opt for param in command.params for opt in getattr(param, "opts", [])} | {"--help"}
    unknown = [w for w in words[index:] if w.startswith("-") and w.split("=")[0] not in known]
    assert unknown == [], f"minyi {line}: no such option {unknown}"


def test_every_minyi_command_of_the_guide_and_the_units_exists():
    texts = [GUIDE.read_text(encoding="utf-8")] + [p.read_text() for p in sorted((DEPLOY / "systemd").iterdir())]
    lines = [line for text in texts for line in minyi_commands(text)]
    assert len(lines) > 20
    for line in lines:
        check_command(line)
    for name in ("serve", "worker", "db upgrade", "db backup", "db restore --force", "audit verify"):
        assert any(line.startswith(name) for line in lines), f"the guide does not show minyi {name}"


def test_the_systemd_units_verify(tmp_path):
    """`systemd-analyze verify` with the units as installed here: no error and no warning (an unknown key is
    only a warning, so the output must be empty too)."""
    analyze = tool("systemd-analyze")
    units = sorted((DEPLOY / "systemd").iterdir())
    assert {u.name for u in units} >= {"minyi.service", "minyi-worker.service", "minyi-backup.service",
                                       "minyi-backup.timer"}
    for unit in units:
        (tmp_path / unit.name).write_text(as_installed_here(unit.read_text()))
    done = subprocess.run([analyze, "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr


def test_a_unit_with_a_missing_program_fails_the_check(tmp_path):
    """The check above is real: a unit whose ExecStart does not exist is refused."""
    analyze = tool("systemd-analyze")
    unit = tmp_path / "minyi.service"
    unit.write_text((DEPLOY / "systemd" / "minyi.service").read_text())  # /opt/minyi does not exist here
    done = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "/opt/minyi/.venv/bin/minyi" in done.stdout + done.stderr


@pytest.mark.parametrize("site", ["minyi.conf", "minyi-district.conf"])
def test_the_nginx_sites_pass_nginx_t(tmp_path, site):
    """Each site, included in a minimal nginx.conf as Debian's would, with a self-signed certificate in place of
    the real one, passes `nginx -t`."""
    nginx, openssl = tool("nginx"), tool("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=minyi.example.org"], check=True, capture_output=True, timeout=60)
    text = as_installed_here((DEPLOY / "nginx" / site).read_text())
    text = text.replace("/etc/letsencrypt/live/minyi.example.org/fullchain.pem", str(cert))
    text = text.replace("/etc/letsencrypt/live/minyi.example.org/privkey.pem", str(key))
    (tmp_path / "site.conf").write_text(text)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n")
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                           "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "test is successful" in done.stderr, done.stderr
    assert "[warn]" not in done.stderr, done.stderr
