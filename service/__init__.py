"""Margins: a self-hosted newsletter and comment-moderation service."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from . import config as config_module
from .extensions import csrf, db, limiter, login, migrate

PACKAGE_DIR = Path(__file__).parent


def templates_dir() -> Path:
    """Templates live at the top of the checkout; a wheel carries them inside the package."""
    packaged = PACKAGE_DIR / "templates"
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / "templates"


def create_app(test_config: dict | None = None) -> Flask:
    """Build the Flask app: settings, extensions, blueprints."""
    app = Flask(__name__, template_folder=str(templates_dir()), static_folder="static")
    app.config.update(config_module.from_environment())
    if test_config:
        app.config.update(test_config)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(app))
    if app.config.get("TRUSTED_PROXIES"):
        # behind N reverse proxies: take the client address from X-Forwarded-For (rate
        # limits, flood checks and the IPs moderators see depend on it)
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"))
    csrf.init_app(app)
    login.init_app(app)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    from . import models  # noqa: F401  (registers the tables)
    from .web import register_blueprints

    register_blueprints(app)
    from . import delivery  # connects the newsletter's publishing receivers

    delivery.init_app(app)
    from worker import celery_init_app

    celery_init_app(app)
    return app


def _engine_options(app: Flask) -> dict:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}
