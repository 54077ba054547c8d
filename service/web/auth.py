"""Staff login and logout."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import (
    LoginManager,
    current_user,
    login_required,
    login_user,
    logout_user,
)

from service.extensions import db, limiter
from service.models import Role, User
from service.staff import accounts

bp = Blueprint("auth", __name__)


def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None  # deactivation ends sessions


def init_login(manager: LoginManager) -> None:
    """Where Flask-Login sends anonymous staff, and how it finds the logged-in user."""
    manager.login_view = "auth.login_page"
    manager.login_message = "Please log in to continue."
    manager.user_loader(load_user)


def role_required(*roles: str):
    """Allow only logged-in users with one of `roles` (admins may do everything)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role != Role.ADMIN and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _safe_next(target: str | None) -> str:
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return home_for(current_user)


def home_for(user) -> str:
    """Where staff land: admins on the dashboard, moderators on the comment queue."""
    return url_for("admin.dashboard") if user.is_admin else url_for("moderate.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def login_page():
    if request.method == "POST":
        user = accounts.authenticate(
            request.form.get("email", ""), request.form.get("password", "")
        )
        if user is not None:
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.args.get("next")))
        flash("That email and password do not match an active account.", "error")
        return render_template("admin/login.html", email=request.form.get("email", "")), 401
    return render_template("admin/login.html", email="")


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("public.home"))
