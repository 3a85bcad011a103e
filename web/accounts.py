"""用户管理 (管理员: staff accounts, their roles, e-mail, 停用/启用, password reset) and 我的账户
(everyone: own name, e-mail and password). The engine checks the role; these views only read the
form and show the result."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import login_user

from engine.errors import InvalidInput
from engine.people import accounts

from .auth import StaffUser, require_login
from .deps import actor, db
from .limits import staff_limit

bp = Blueprint("accounts", __name__)
bp.before_request(require_login)

_PROFILE = ("display_name", "email")
_ACCOUNT = ("username", "display_name", "email", "other_roles", "other_unit")
BLANK_ROWS = 2  # empty (角色, 单位) rows under the held ones, for new roles without any script


def _form(names: tuple[str, ...]) -> dict:
    """The form's fields; the (角色, 单位) rows as `grants` pairs (a row without a role is left out)."""
    values = {name: request.form.get(name, "") for name in names}
    values["grants"] = [(role, unit) for role, unit in zip(request.form.getlist("grant_role"),
                                                           request.form.getlist("grant_unit"), strict=False) if role]
    values["roles"] = request.form.getlist("roles")  # ticked roles (older forms): held in the default unit
    values["active"] = request.form.get("active", "")
    return values


# --- 我的账户 ---------------------------------------------------------------------------------

def _mine(values: dict | None = None, errors: dict | None = None, message: str | None = None, status: int = 200):
    account = accounts.my_account(db(), actor())
    shown = values if values is not None else {"display_name": account.display_name, "email": account.email or ""}
    return render_template("accounts/mine.html", account=account, values=shown, errors=errors or {},
                           message=message, account_must_change=actor().must_change_password), status


@bp.get("/account")
def show_mine():
    return _mine()


@bp.post("/account")
def update_mine():
    values = {name: request.form.get(name, "") for name in _PROFILE}
    try:
        accounts.update_my_account(db(), actor(), values)
    except InvalidInput as exc:
        return _mine(values, exc.fields, exc.message, 422)
    flash("已保存", "success")
    return redirect(url_for("accounts.show_mine"))


@bp.post("/account/password")
@staff_limit("password")
def change_password():
    try:
        renewed = accounts.change_my_password(db(), actor(), request.form.get("current_password", ""),
                                              request.form.get("new_password", ""),
                                              request.form.get("new_password_again", ""))
    except InvalidInput as exc:
        return _mine(None, exc.fields, exc.message, 422)
    login_user(StaffUser(renewed))  # this session goes on with the new password; every other one has ended
    flash("密码已修改;在其他设备上登录的会话已退出", "success")
    return redirect(url_for("accounts.show_mine"))


# --- 用户管理 ---------------------------------------------------------------------------------

@bp.get("/admin/users")
def list_accounts():
    return render_template("accounts/list.html", accounts=accounts.list_accounts(db(), actor()))


def _edit(account: accounts.Account | None, values: dict, errors: dict, message: str | None = None,
          status: int = 200):
    """The account form: one (角色, 单位) row per role held in a unit the administrator manages, and a few
    empty ones; roles held elsewhere are listed, not editable. Every role someone holds is among the
    choices, so 其他角色 only ever shows what was typed into it."""
    choices = accounts.unit_choices(db(), actor())
    mine = {u.id for u in choices}
    groups = accounts.role_groups(db(), actor())
    offered = {r for g in groups for r in g.roles}
    outside = [g for g in account.grants if g.unit_id not in mine] if account else []
    rows = [(str(role), str(unit)) for role, unit in values.get("grants", [])
            if not any(str(unit) == str(g.unit_id) for g in outside)] + [("", "")] * BLANK_ROWS
    elsewhere = [g.label for g in outside]
    return render_template("accounts/edit.html", account=account, values={"other_roles": "", **values},
                           errors=errors, message=message, groups=groups, units=choices, rows=rows,
                           unlisted=sorted({r for r, _ in rows if r and r not in offered}),
                           elsewhere=elsewhere), status


@bp.get("/admin/users/new")
def show_new():
    return _edit(None, {"grants": [], "active": "1"}, {})


@bp.post("/admin/users/new")
def create():
    values = _form(_ACCOUNT + ("password",))
    try:
        created = accounts.create_account(db(), actor(), values)
    except InvalidInput as exc:
        values.pop("password")
        return _edit(None, values, exc.fields, exc.message, 422)
    flash(f"已创建用户 {created.username}", "success")
    return redirect(url_for("accounts.list_accounts"))


@bp.get("/admin/users/<int:user_id>")
def show_edit(user_id: int):
    account = accounts.get_account(db(), actor(), user_id)
    return _edit(account, _stored(account), {})


def _stored(account: accounts.Account) -> dict:
    return {"display_name": account.display_name, "email": account.email or "",
            "grants": [(g.role, g.unit_id) for g in account.grants], "active": "1" if account.active else ""}


@bp.post("/admin/users/<int:user_id>")
def update(user_id: int):
    values = _form(_ACCOUNT)
    try:
        changed = accounts.update_account(db(), actor(), user_id, values)
    except InvalidInput as exc:
        return _edit(accounts.get_account(db(), actor(), user_id), values, exc.fields, exc.message, 422)
    flash(f"已保存用户 {changed.username}", "success")
    return redirect(url_for("accounts.list_accounts"))


@bp.post("/admin/users/<int:user_id>/password")
def reset_password(user_id: int):
    try:
        accounts.reset_password(db(), actor(), user_id, request.form.get("password", ""))
    except InvalidInput as exc:
        account = accounts.get_account(db(), actor(), user_id)
        return _edit(account, _stored(account), exc.fields, exc.message, 422)
    flash("已重设密码,请把新密码当面或电话告知本人", "success")
    return redirect(url_for("accounts.show_edit", user_id=user_id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
