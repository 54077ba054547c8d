"""Housekeeping: worker heartbeat and pruning the embedded broker."""

from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import create_engine, text

from service.core.db import rowcount
from service.extensions import db
from service.models import Setting
from service.models.base import utcnow


def heartbeat(token: str = "") -> str:
    """Store the time (and a token) of the last task a worker ran; return the token."""
    value = json.dumps({"at": utcnow().isoformat(), "token": token})
    row = db.session.get(Setting, "worker.heartbeat")
    if row is None:
        db.session.add(Setting(key="worker.heartbeat", value=value))
    else:
        row.value = value
    db.session.commit()
    return token


def last_heartbeat() -> dict | None:
    row = db.session.get(Setting, "worker.heartbeat")
    return json.loads(row.value) if row else None


def prune_broker() -> int:
    """Delete consumed messages from the SQLite broker (kombu keeps them forever)."""
    url = current_app.config["CELERY_BROKER_URL"]
    if not url.startswith("sqla+"):
        return 0
    engine = create_engine(url[len("sqla+") :])
    try:
        with engine.begin() as conn:
            return rowcount(conn.execute(text("DELETE FROM kombu_message WHERE visible = 0")))
    finally:
        engine.dispose()
