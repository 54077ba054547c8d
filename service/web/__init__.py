"""Blueprints: HTTP in, calls into the domain modules, HTML out."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, render_template

from .. import site


def register_blueprints(app: Flask) -> None:
    from . import (
        admin,
        auth,
        commenter,
        comments,
        desk,
        feeds,
        moderate,
        newsletter_admin,
        public,
        settings_admin,
        staff,
        subscribe,
        webhooks_admin,
    )

    for module in (public, feeds, auth, admin, moderate, staff, comments, commenter, subscribe,
                   newsletter_admin, desk, webhooks_admin, settings_admin):
        app.register_blueprint(module.bp)
    app.jinja_env.filters["localdate"] = lambda d, fmt="date": format_local(app, d, fmt)
    app.jinja_env.filters["localiso"] = lambda d: d.astimezone(site.timezone()).strftime(
        "%Y-%m-%dT%H:%M")
    app.context_processor(lambda: {"site_name": site.name(),
                                   "site_description": site.description()})
    for code in (400, 403, 404, 405, 409, 429, 500):
        app.register_error_handler(code, _error_page)
    app.after_request(_security_headers)


def format_local(app: Flask, moment: datetime | None, fmt: str = "date") -> str:
    """Format an aware datetime in the site's timezone, WordPress style."""
    if moment is None:
        return ""
    local = moment.astimezone(site.timezone())
    date = f"{local:%B} {local.day}, {local.year}"
    if fmt == "date":
        return date
    hour = local.hour % 12 or 12
    return f"{date} at {hour}:{local:%M} {'am' if local.hour < 12 else 'pm'}"


def _error_page(error):
    code = getattr(error, "code", 500) or 500
    return render_template("errors/error.html", error=error, code=code), code


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'self'; form-action 'self'",
    )
    return response
