"""The web layer: blueprints turn HTTP into one call of a domain function and a page.

Nothing below web/ imports it (import-linter holds that line); domain code never reads
flask.request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, Response, render_template

from service.core import site
from service.extensions import login


def init_app(app: Flask) -> None:
    """Register every blueprint, the template filters, the error pages and security headers."""
    # here, not at the top: a blueprint module imports service.web.auth, which loads this
    # package first; importing every blueprint from it then would make the two a cycle
    from service.web import (
        auth,
        commenter,
        comments,
        feeds,
        moderate,
        moderate_links,
        public,
        replies,
        subscribe,
    )
    from service.web.admin import (
        dashboard,
        desk,
        letters,
        mailbox,
        newsletter,
        settings,
        staff,
        webhooks,
    )

    for module in (
        public,
        feeds,
        auth,
        dashboard,
        mailbox,
        moderate,
        moderate_links,
        staff,
        comments,
        commenter,
        subscribe,
        newsletter,
        desk,
        webhooks,
        settings,
        replies,
        letters,
    ):
        app.register_blueprint(module.bp)
    auth.init_login(login)
    app.jinja_env.filters["localdate"] = lambda d, fmt="date": format_local(d, fmt)
    app.jinja_env.filters["localiso"] = lambda d: d.astimezone(site.timezone()).strftime(
        "%Y-%m-%dT%H:%M"
    )
    app.context_processor(
        lambda: {"site_name": site.name(), "site_description": site.description()}
    )
    for code in (400, 403, 404, 405, 409, 429, 500):
        app.register_error_handler(code, _error_page)
    app.after_request(_security_headers)


def format_local(moment: datetime | None, fmt: str = "date") -> str:
    """Format an aware datetime in the site's timezone, WordPress style."""
    if moment is None:
        return ""
    local = moment.astimezone(site.timezone())
    date = f"{local:%B} {local.day}, {local.year}"
    if fmt == "date":
        return date
    hour = local.hour % 12 or 12
    return f"{date} at {hour}:{local:%M} {'am' if local.hour < 12 else 'pm'}"


def _error_page(error: Any) -> tuple[str, int]:
    code = getattr(error, "code", 500) or 500
    return render_template("errors/error.html", error=error, code=code), code


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'self'; form-action 'self'",
    )
    return response
