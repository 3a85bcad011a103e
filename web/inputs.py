"""Bad input is refused at the door, the same way for every route, before any view or database sees it.

- Every `<int:…>` of a route fits the 32-bit id columns; a larger number matches no route (404).
- The path, the query string and every form field must be UTF-8 text without NUL (400): PostgreSQL cannot
  store a NUL, SQLite would keep it, and Werkzeug would keep invalid bytes as literal “%FF”.
- A JSON body is parsed in one place (`json_body`), by orjson, which refuses invalid UTF-8 and nesting
  deeper than 1024 levels (400, with line and column).
- Each route takes a body of at most its size (`BODY_LIMITS`): small by default, more for the routes marked
  `@accepts("upload")` (residents' attachments) or `@accepts("diagram")` (the designer); beyond it, 413.
- Page numbers and ids in the query string or a form are read with `page_number` and `id_value`.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from flask import Flask, Request, current_app, g, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter, ValidationError

from engine.errors import MalformedRequest, NotFound
from engine.public import attachments

from . import errors

MAX_ID = 2**31 - 1  # the id columns are INTEGER: 32 bits on PostgreSQL
MAX_PAGE = 100_000
MB = 1024 * 1024
BODY_LIMITS = {
    "default": MB,  # a form or a JSON completion: about 100,000 Chinese characters, form-encoded
    "diagram": 8 * MB,  # a diagram of up to 2 MB, form- or JSON-encoded
    "upload": attachments.MAX_FILES * attachments.MAX_BYTES + MB,  # every file at its limit, and the form
}


# --- ids in routes -----------------------------------------------------------------------------

class IdConverter(IntegerConverter):
    """`<int:…>`: a whole number that an id column can hold; anything else matches no route (404)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> Any:
        if len(value) > len(str(MAX_ID)):  # also spares int() a string of thousands of digits
            raise ValidationError()
        return super().to_python(value)


def id_value(source: MultiDict, name: str, default: int | None = None) -> int | None:
    """An id from the query string or a form (`?to=3`): absent is `default`, anything but an id is a 404."""
    text = (source.get(name) or "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)) or int(text) > MAX_ID:
        raise NotFound(f"编号“{text[:20]}”不存在(参数 {name})")
    return int(text)


def page_number(source: MultiDict | None = None) -> int:
    """`?page=`: 1 when absent or not a number (as before), a 404 when beyond any list we keep."""
    text = ((source if source is not None else request.args).get("page") or "").strip()
    if not text.isascii() or not text.isdigit():
        return 1
    if len(text) > 6 or not 1 <= int(text) <= MAX_PAGE:
        raise NotFound(f"没有第 {text[:20]} 页:页码须在 1 到 {MAX_PAGE} 之间")
    return int(text)


# --- text: UTF-8, no NUL ------------------------------------------------------------------------

def _text(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest(f"{where}含有无效的字节(不是 UTF-8 编码的文字),没有做任何处理。") from None
    return _no_nul(text, where)


def _no_nul(text: str, where: str) -> str:
    if "\x00" in text:
        raise MalformedRequest(f"{where}含有空字符(NUL),没有做任何处理。")
    return text


def _check_pairs(data: bytes, where: str) -> None:
    """`a=1&b=2` as sent (percent-encoded): each name and value must decode to UTF-8 text without NUL."""
    for part in data.split(b"&"):
        name, _, value = part.partition(b"=")
        label = _text(unquote_to_bytes(name.replace(b"+", b" ")), f"{where}名")
        _text(unquote_to_bytes(value.replace(b"+", b" ")), f"{where} {label[:40]} ")


def refuse_bad_input() -> None:
    """The first hook of every request: path, query string, form and JSON body, whoever reads them later.

    The path is checked as the WSGI server gives it (latin-1 for bytes) and as the raw URI where the server
    passes one (the test client, like some servers, decodes the path with replacement characters)."""
    environ = request.environ
    _text(environ.get("PATH_INFO", "").encode("latin-1", "replace"), "地址")
    _text(unquote_to_bytes((environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").partition("?")[0]), "地址")
    _check_pairs(request.query_string, "地址的查询参数")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        request.form  # noqa: B018  parsed (and checked) by CheckedFormParser; 413 beyond the route's limit
    if request.method not in ("GET", "HEAD", "OPTIONS") or request.content_length:
        json_body()


class CheckedFormParser(FormDataParser):
    """Werkzeug's form parser, refusing invalid UTF-8 and NUL instead of keeping “%FF” or dropping the form."""

    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        data = stream.read()
        _check_pairs(data, "表单字段")
        return super()._parse_urlencoded(io.BytesIO(data), mimetype, len(data), options)

    def _parse_multipart(self, stream, mimetype, content_length, options):
        stream, form, files = super()._parse_multipart(stream, mimetype, content_length, options)
        for name, value in form.items(multi=True):
            if "\ufffd" in value:  # the multipart parser replaces undecodable bytes with U+FFFD
                raise MalformedRequest(f"表单字段 {name[:40]} 含有无效的字节(不是 UTF-8 编码的文字),没有做任何处理。")
            _no_nul(name + value, f"表单字段 {name[:40]} ")
        for name, file in files.items(multi=True):
            _no_nul(name + (file.filename or ""), f"上传文件 {name[:40]} 的文件名")
        return stream, form, files


class CheckedRequest(Request):
    """The app's request: its form checked as it is parsed, and the body limit of its route."""

    form_data_parser_class = CheckedFormParser

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        return body_limit(self.endpoint)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


# --- body size ----------------------------------------------------------------------------------

def accepts(kind: str) -> Callable:
    """Mark a view that takes a larger body than a form: `"upload"` or `"diagram"` (see BODY_LIMITS)."""
    def mark(view: Callable) -> Callable:
        view.body_limit = kind
        return view
    return mark


def body_limit(endpoint: str | None) -> int | None:
    """The bytes the route's body may have: its kind's limit, never above MAX_CONTENT_LENGTH."""
    if not current_app:
        return None
    view = current_app.view_functions.get(endpoint or "")
    limits = current_app.config["BODY_LIMITS"]
    limit = limits.get(getattr(view, "body_limit", "default"), limits["default"])
    ceiling = current_app.config.get("MAX_CONTENT_LENGTH")
    return min(limit, ceiling) if ceiling else limit


def _size(limit: int) -> str:
    return f"{limit / MB:g} MB" if limit >= MB else f"{limit // 1024} KB"


def too_large(exc: RequestEntityTooLarge):
    """The limit that was passed: the route's, or (a body within it) the one on a single form field."""
    limit, length = request.max_content_length, request.content_length
    if limit and length is not None and length <= limit and request.max_form_memory_size:
        where = f"其中一项填写的内容超过了 {_size(request.max_form_memory_size)},"
    else:
        where = f"此处最多 {_size(limit)}," if limit else ""
    return errors.respond(413, f"提交的内容太大:{where}没有保存任何内容。请删减后再提交。", "RequestEntityTooLarge")


# --- JSON ---------------------------------------------------------------------------------------

JSON_PROBLEMS = (("depth", "嵌套层数过多(最多 1024 层)"), ("UTF-8", "含有无效的 UTF-8 编码"),
                 ("surrogate", "含有无效的 Unicode 转义"), ("empty", "请求体为空"),
                 ("infinity", "数字超出范围"))


def json_body() -> Any:
    """The request's JSON body, or None when it is not sent as JSON; the one place JSON is parsed."""
    if not request.is_json:
        return None
    if "json_body" in g:
        return g.json_body
    try:
        value = orjson.loads(request.get_data(cache=True))
    except orjson.JSONDecodeError as exc:
        what = next((text for key, text in JSON_PROBLEMS if key in exc.msg), "格式不正确")
        raise MalformedRequest(f"请求体不是有效的 JSON:{what}(第 {exc.lineno} 行第 {exc.colno} 列)") from None
    _json_without_nul(value)
    g.json_body = value
    return value


def _json_without_nul(value: Any) -> None:
    """Every key and string of the document, walked without recursion (it may be 1024 levels deep)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            _no_nul(item, f"JSON 中 {where or '(整个请求体)'} ")
        elif isinstance(item, dict):
            for key, inner in item.items():
                path = f"{where}.{key[:40]}" if where else key[:40]
                _no_nul(key, f"JSON 中键名 {path} ")
                stack.append((path, inner))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", inner) for i, inner in enumerate(item))


def init_app(app: Flask) -> None:
    app.request_class = CheckedRequest
    app.url_map.converters["int"] = IdConverter  # before any blueprint adds its rules
    app.config.setdefault("BODY_LIMITS", dict(BODY_LIMITS))
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None: no limit at all
        app.config["MAX_CONTENT_LENGTH"] = max(app.config["BODY_LIMITS"].values())
    # before every other hook (CSRF reads the form, the rate limiter the path): bad input is refused first
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_bad_input)
    app.register_error_handler(RequestEntityTooLarge, too_large)
