"""Margins: a self-hosted newsletter and comment-moderation service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

PACKAGE_DIR = Path(__file__).parent


def templates_dir() -> Path:
    """Templates live at the top of the checkout; a wheel carries them inside the package."""
    packaged = PACKAGE_DIR / "templates"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "templates"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: configuration, extensions, every listener and signal, blueprints.

    Nothing in Margins registers itself on import: each line below connects one part. (The
    imports are here so that importing any one module of the package stays light.)
    """
    from service import comments, config, extensions, moderation, newsletter, web, webhooks
    from service.core import settings
    from service.models import SendKind
    from service.newsletter import composing, digests, planning
    from service.publishing import queries

    app = Flask(__name__, template_folder=str(templates_dir()), static_folder="static")
    app.config.update(config.from_environment())
    app.config.update(test_config or {})
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        extensions.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]),
    )
    config.trust_proxies(app)
    extensions.init_sqlite()  # WAL, busy timeout, foreign keys on every SQLite connection
    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(PACKAGE_DIR / "migrations"))
    extensions.csrf.init_app(app)
    extensions.login.init_app(app)
    extensions.limiter.init_app(app)
    extensions.celery_init_app(app)  # the broker binding; worker/ adds tasks and the schedule
    for defaults in (comments.SETTINGS, moderation.SETTINGS, newsletter.SETTINGS):
        settings.register(defaults)
    settings.init_app()  # a process's settings copy is dropped when it changes a setting
    queries.init_app()  # …and its copies of issue lookups when it changes an issue
    planning.init_app()  # publishing an issue plans and starts its newsletter send
    composing.register(SendKind.ISSUE, composing.IssueComposer.for_send)
    composing.register(SendKind.DIGEST, digests.DigestComposer)
    webhooks.init_app()  # domain signals become webhook deliveries, sent after the commit
    web.init_app(app)  # blueprints, template filters, error pages, security headers
    return app
