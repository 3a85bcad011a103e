"""Abuse of the residents' side: floods are limited per IP, guessing codes fails, bad uploads store nothing."""
from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from engine.people import users
from engine.public import attachments
from engine.store.models import AttachmentContent
from engine.work import tasklist
from tests.conftest import PROCESSES, deploy_file
from tests.web.conftest import build_app
from tests.web.test_resident_pages import MATTER, PNG, accept, answer, do, receipt_of, submit
from web.resident import DEFAULT_LIMITS


@pytest.fixture
def strict_app(sqlite_db) -> Flask:
    """Small limits, as a site would set them, to see floods stopped."""
    limits = {**DEFAULT_LIMITS, "submit": "3 per minute", "follow": "5 per minute", "rate": "2 per minute",
              "upload": "2 per minute", "objection": "2 per minute"}
    app = build_app(sqlite_db, RESIDENT_RATE_LIMITS=limits)
    deploy_file(sqlite_db, PROCESSES / "minqing_liushuixian.bpmn")
    yield app
    app.extensions["minyi_db"].dispose()


def ip(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def queue_total(app: Flask) -> int:
    """Online submissions registered: each waits in the clerk's queue (网上受理核实)."""
    clerk = next(a for a in users.list_users(app.extensions["minyi_db"]) if a.username == "clerk")
    return tasklist.tasks(app.extensions["minyi_db"], clerk, "queue").total


def post_files(client, path: str, data: dict):
    """A multipart POST whose spooled request body is closed afterwards (the test client leaves big ones open)."""
    builder = EnvironBuilder(path=path, method="POST", data=data, content_type="multipart/form-data")
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


def uploaded(app: Flask) -> list[bytes]:
    """The bytes of every file kept (in the database)."""
    with app.extensions["minyi_db"].read() as session:
        return [bytes(data) for data in session.scalars(select(AttachmentContent.data))]


def test_a_submission_flood_is_stopped_per_ip_with_the_error_page(strict_app):
    client = strict_app.test_client()
    codes = [client.post("/public/submit", data=MATTER, **ip("10.0.0.1")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    flooded = client.post("/public/submit", data=MATTER, **ip("10.0.0.1"))
    assert flooded.status_code == 429 and "请求过于频繁" in flooded.get_data(as_text=True)
    assert client.post("/public/submit", data=MATTER, **ip("10.0.0.2")).status_code == 200
    assert queue_total(strict_app) == 4
    assert client.get("/public/submit", **ip("10.0.0.1")).status_code == 200  # reading the form is not limited


def test_guessing_codes_is_stopped(strict_app):
    client = strict_app.test_client()
    number, _ = receipt_of(client.post("/public/submit", data=MATTER, **ip("10.0.0.3")))
    codes = [client.post("/public/follow", data={"number": number, "code": f"guess{i}"}, **ip("10.0.0.4")).status_code
             for i in range(5)]
    assert codes == [404] * 5
    assert client.get(f"/public/follow/{number}?c=guess6", **ip("10.0.0.4")).status_code == 429
    assert client.post(f"/public/follow/{number}", data={"code": "guess7"}, **ip("10.0.0.4")).status_code == 429
    assert client.get(f"/public/follow/{number}/files/1?c=guess8", **ip("10.0.0.4")).status_code == 429
    assert client.get(f"/public/follow/{number}", **ip("10.0.0.4")).status_code == 200  # the empty form is free


def test_a_rating_flood_is_stopped(strict_app):
    client = strict_app.test_client()
    number, code = receipt_of(client.post("/public/submit", data=MATTER, **ip("10.0.0.5")))
    answer(strict_app, number)
    codes = [client.post(f"/public/follow/{number}/rate", data={"code": code, "rating": "满意"},
                         **ip("10.0.0.6")).status_code for _ in range(3)]
    assert codes == [200, 409, 429]


def test_an_upload_flood_is_stopped(strict_app):
    client = strict_app.test_client()
    number, code = receipt_of(client.post("/public/submit", data=MATTER, **ip("10.0.0.7")))
    codes = [client.post(f"/public/follow/{number}/supplement", data={"code": code, "note": "材料"},
                         **ip("10.0.0.8")).status_code for _ in range(3)]
    assert codes == [409, 409, 429]


@pytest.mark.parametrize("files, message", [
    ([(PNG + b"\x00" * attachments.MAX_BYTES, "big.png")], "超过 5 MB"),
    ([(b"<html><script>alert(1)</script></html>", "photo.png")], "类型不允许"),
    ([(b"MZ\x90\x00" + b"\x00" * 64, "setup.jpg")], "类型不允许"),
    ([(PNG, f"{i}.png") for i in range(4)], "最多上传 3 个文件"),
])
def test_bad_uploads_are_refused_with_a_clear_message_and_nothing_is_stored(resident, resident_app, files, message):
    data = {**MATTER, "files": [(io.BytesIO(content), name) for content, name in files]}
    response = post_files(resident, "/public/submit", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'id="err-files"' in html
    assert queue_total(resident_app) == 0 and uploaded(resident_app) == []


def test_three_files_of_the_full_size_are_accepted_and_stored(resident, resident_app):
    """The boundary the limits allow: exactly 3 files of exactly 5 MB fit in one submission (the
    request-size limit leaves room for them and the form) and all three are kept."""
    full = PNG + b"\x00" * (attachments.MAX_BYTES - len(PNG))
    files = [(io.BytesIO(full), f"现场{i}.png") for i in range(attachments.MAX_FILES)]
    response = post_files(resident, "/public/submit", {**MATTER, "files": files})
    number, _ = receipt_of(response)
    assert queue_total(resident_app) == 1 and number
    assert sorted(len(data) for data in uploaded(resident_app)) == [attachments.MAX_BYTES] * 3


def test_a_request_beyond_the_total_size_is_refused_before_it_is_read(resident, resident_app):
    huge = [(io.BytesIO(PNG + b"\x00" * attachments.MAX_BYTES), f"{i}.png") for i in range(4)]
    response = post_files(resident, "/public/submit", {**MATTER, "files": huge})
    assert response.status_code == 413 and "提交的内容太大" in response.get_data(as_text=True)
    assert queue_total(resident_app) == 0 and uploaded(resident_app) == []


def test_a_bad_supplement_upload_leaves_the_step_waiting(resident, resident_app):
    number, code = receipt_of(submit(resident))
    accept(resident_app, number)
    do(resident_app, number, "UserTask_classify", "leader", kind="补办件")
    do(resident_app, number, "UserTask_notify_missing", "handler", missing_documents="身份证")
    response = resident.post(f"/public/follow/{number}/supplement", content_type="multipart/form-data",
                             data={"code": code, "note": "身份证",
                                   "files": [(io.BytesIO(b"#!/bin/sh\nrm -rf /"), "id.png")]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "类型不允许" in html and 'value="' in html
    assert "提交补充材料" in html and "身份证" in html
    assert uploaded(resident_app) == []


def test_an_objection_flood_on_the_board_is_stopped(strict_app):
    """异议 on the public board draw on their own per-address budget, refused or not."""
    client = strict_app.test_client()
    codes = [client.post("/public/board/9999/objection", data={"objection_content": "异议"},
                         **ip("10.0.0.9")).status_code for _ in range(3)]
    assert codes == [404, 404, 429]
