"""Housekeeping: worker heartbeat and pruning the embedded broker."""

from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import create_engine, text

from .extensions import db
from .models import Setting
from .models.base import utcnow


def heartbeat(token: str = "") -> None:
    """Store the time (and a token) of the last task a worker ran."""
    value = json.dumps({"at": utcnow().isoformat(), "token": token})
    row = db.session.get(Setting, "worker.heartbeat")
    if row is None:
        db.session.add(Setting(key="worker.heartbeat", value=value))
    else:
        row.value = value
    db.session.commit()


def last_heartbeat() -> dict | None:
    row = db.session.get(Setting, "worker.heartbeat")
    return json.loads(row.value) if row else None


def prune_broker() -> int:
    """Delete consumed messages from the SQLite broker (kombu keeps them forever)."""
    url = current_app.config["CELERY_BROKER_URL"]
    if not url.startswith("sqla+"):
        return 0
    engine = create_engine(url[len("sqla+"):])
    try:
        with engine.begin() as conn:
            return conn.execute(text("DELETE FROM kombu_message WHERE visible = 0")).rowcount
    finally:
        engine.dispose()
