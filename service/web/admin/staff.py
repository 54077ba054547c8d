"""Staff accounts (admins only): invite moderators by email, change roles, deactivate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from service.core import tokens
from service.extensions import db
from service.models import Role, User
from service.staff import team
from service.web.auth import role_required

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@role_required("admin")
def index():
    users = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    return render_template("staff/list.html", users=users, roles=list(Role))


def _change(apply: Callable[[], Any], done: Callable[[Any], str]) -> BaseResponse:
    """Run one staff change; flash what happened (or why not) and go back to the list."""
    try:
        result = apply()
    except team.StaffError as exc:
        flash(str(exc), "error")
    else:
        flash(done(result), "info")
    return redirect(url_for(".index"))


@bp.post("/invite")
@role_required("admin")
def invite():
    return _change(
        lambda: team.invite(
            request.form.get("email", ""), request.form.get("role", ""), current_user
        ),
        lambda email: f"Invitation sent to {email}.",
    )


@bp.post("/<int:user_id>/role")
@role_required("admin")
def role(user_id: int):
    return _change(
        lambda: team.set_role(user_id, request.form.get("role", ""), current_user),
        lambda user: f"{user.email} is now {user.role}.",
    )


@bp.post("/<int:user_id>/active")
@role_required("admin")
def active(user_id: int):
    return _change(
        lambda: team.set_active(user_id, request.form.get("active") == "1", current_user),
        lambda user: f"{user.email} is {'active' if user.active else 'deactivated'}.",
    )


@bp.route("/accept/<token>", methods=["GET", "POST"])
def accept(token: str):
    """The invitation link: GET shows the form, POST creates the account."""
    try:
        invite = team.read_invite(token)
    except tokens.TokenError as exc:
        abort(400, description=str(exc))
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("password2", ""):
            flash("The two passwords differ.", "error")
            return render_template("staff/accept.html", invite=invite), 400
        try:
            user = team.accept(token, request.form.get("name", ""), password)
        except (team.StaffError, tokens.TokenError) as exc:
            flash(str(exc), "error")
            return render_template("staff/accept.html", invite=invite), 400
        login_user(user)
        flash("Welcome! Your account is ready.", "info")
        return redirect(url_for("moderate.queue", tab="pending"))
    return render_template("staff/accept.html", invite=invite)
