"""Signing staff in and out (登录/退出); every page but the login page needs a session."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from engine.actor import Actor
from engine.errors import Unauthorized
from engine.people import users

from .deps import db, safe_next
from .limits import staff_limit

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "info"


# where a person whose password an administrator set may go before choosing their own
PASSWORD_PAGES = ("accounts.show_mine", "accounts.change_password")


class StaffUser(UserMixin):
    """A Flask-Login user wrapping the engine's `Actor`."""

    def __init__(self, actor: Actor, unread_notifications: int = 0):
        self.actor = actor
        self.unread_notifications = unread_notifications  # as the request began, for the page header

    def get_id(self) -> str:
        """The account and its session version: a new password ends every session signed in before it."""
        return f"{self.actor.id}.{self.actor.session_version}"

    @property
    def display_name(self) -> str:
        return self.actor.display_name

    @property
    def is_leader(self) -> bool:
        return self.actor.has_role("社区负责人", "管理员")


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    account, _, version = user_id.partition(".")
    if not account.isdigit() or not version.isdigit():
        return None
    signed = users.signed_in(db(), int(account), int(version))
    return StaffUser(signed.actor, signed.unread_notifications) if signed is not None else None


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请填写用户名"), Length(max=80)])
    password = PasswordField("密码", validators=[DataRequired("请填写密码"), Length(max=200)])


def require_login():
    """`before_request` of every page blueprint."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.actor.must_change_password and request.endpoint not in PASSWORD_PAGES:
        flash("您的密码是管理员设置的,请先设置只有您自己知道的新密码", "info")
        return redirect(url_for("accounts.show_mine") + "#password")
    return None


@bp.route("/login", methods=["GET", "POST"])
@staff_limit("login")
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            actor = users.authenticate(db(), form.username.data.strip(), form.password.data)
        except Unauthorized as exc:
            error = exc.message
        else:
            session.clear()
            session.permanent = True
            login_user(StaffUser(actor))
            return redirect(safe_next(request.args.get("next"), url_for("tasks.list_tasks", which="inbox")))
    status = 200 if error is None and not form.errors else 401 if error else 422
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)
