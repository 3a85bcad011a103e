"""Every MIWG reference file (OMG's models as exported by bpmn.io/Camunda and Signavio) opens in the
modeler without a browser error, and validation answers "deployable" or lists what is unsupported."""
from __future__ import annotations

import json

import pytest

from engine.people import users
from engine.store.db import Database
from tests.browser.test_minqing_flow import sign_in
from tests.conftest import PASSWORD, SHARED

pytestmark = pytest.mark.browser
MIWG = SHARED / "corpora" / "miwg"
FILES = sorted(MIWG.rglob("*.bpmn"))
FOLDERS = sorted({p.parent for p in FILES})

OPEN_AND_VALIDATE = """async ([xml, name]) => {
  const modeler = window.minyiModeler;
  const result = { name };
  try {
    const { warnings } = await window.minyiOpen(xml);
    result.imported = true;
    result.importWarnings = warnings.length;
  } catch (err) {
    result.imported = false;
    result.error = err.message;
  }
  const response = await fetch('/api/designer/validate', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json',
               'X-CSRFToken': document.querySelector('meta[name="csrf-token"]').content },
    body: JSON.stringify({ xml, filename: name })
  });
  result.status = response.status;
  result.body = await response.json();
  return result;
}"""


@pytest.fixture
def designer_page(live_server, tmp_path, new_page):
    database = Database(f"sqlite:///{tmp_path / 'minyi.db'}")
    users.create_user(database, "designer", PASSWORD, "周设计", ["流程设计人员"])
    database.dispose()
    page = new_page()
    sign_in(page, live_server, "designer")
    page.goto(f"{live_server}/designer/new")
    page.wait_for_selector('#designer[data-ready="true"]')
    return page


def test_the_corpus_is_there():
    assert len(FILES) >= 100, f"expected the MIWG files under {MIWG}"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_miwg_file_opens_and_gets_a_verdict(designer_page, folder):
    errors: list[str] = []
    designer_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    designer_page.on("pageerror", lambda e: errors.append(str(e)))
    failures = []
    for path in sorted(folder.glob("*.bpmn")):
        before = len(errors)
        xml = path.read_text(encoding="utf-8-sig")
        result = designer_page.evaluate(OPEN_AND_VALIDATE, [xml, path.name])
        body = result["body"]
        verdict_ok = result["status"] == 200 and (
            body["deployable"] or (body["problems"] and all(p["message"] for p in body["problems"])))
        if not result["imported"] or len(errors) > before or not verdict_ok:
            failures.append({"file": path.name, "result": result, "console": errors[before:]})
    assert not failures, json.dumps(failures, ensure_ascii=False, indent=1)[:4000]
