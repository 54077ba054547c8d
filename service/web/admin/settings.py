"""Admin: the site's settings page."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from service.core import settings, site
from service.core.errors import FieldErrors
from service.extensions import db
from service.models import Author
from service.staff import site_settings
from service.web.auth import role_required

bp = Blueprint("settings_admin", __name__, url_prefix="/admin/settings")
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _current() -> dict:
    values = {
        "site.name": site.name(),
        "site.description": site.description(),
        "site.timezone": site.timezone_name(),
    }
    values.update({key: settings.get(key) for key in site_settings.INTEGERS})
    return values


def _page(values: dict, errors: dict, status: int = 200):
    authors = db.session.scalars(select(Author).order_by(Author.name)).all()
    return render_template(
        "admin/settings.html",
        values=values,
        errors=errors,
        authors=authors,
        zones=sorted(available_timezones()),
        weekdays=WEEKDAYS,
        integers=site_settings.INTEGERS,
    ), status


@bp.get("/")
@role_required()
def index():
    return _page(_current(), {})


@bp.post("/")
@role_required()
def save():
    bios = {
        int(k.removeprefix("bio-")): v
        for k, v in request.form.items()
        if k.startswith("bio-") and k.removeprefix("bio-").isdigit()
    }
    try:
        changed = site_settings.save(request.form.to_dict(), bios, current_user.email)
    except FieldErrors as exc:
        db.session.rollback()
        return _page(request.form.to_dict(), exc.errors, 422)
    flash("Settings saved." if changed else "Nothing changed.", "success")
    return redirect(url_for("settings_admin.index"))
