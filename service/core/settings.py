"""Site settings an admin changes at run time, stored as JSON in the settings table.

One cache: each process keeps a copy of every stored setting, at most `recent.MAX_AGE` (2 s) old
(core/recent.py). A change saved by this process is seen at once; one saved by another process
within two seconds. A transaction that has just changed a setting reads its own view until it
commits or rolls back. Each capability registers its defaults (create_app calls `register`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service.core import recent
from service.extensions import db
from service.models import Setting

#: site.name and site.timezone have none: unset, the environment's SITE_NAME and TIMEZONE hold.
DEFAULTS: dict[str, Any] = {"site.description": ""}

_KEY = "settings"
_DIRTY = "margins_settings_changed"
_ALL = select(Setting.key, Setting.value)


def register(defaults: dict[str, Any]) -> None:
    """Add a capability's settings and their defaults (idempotent)."""
    DEFAULTS.update(defaults)


def _load() -> dict[str, Any]:
    rows = db.session.connection().execute(_ALL)
    return {key: json.loads(value) for key, value in rows}


def _stored() -> dict[str, Any]:
    if db.session.info.get(_DIRTY):  # changed in this transaction: read its own view
        db.session.flush()
        return _load()
    return recent.get(_KEY, _load)


def get(key: str, default: Any = None) -> Any:
    """The stored value of `key`, else its registered default, else `default`."""
    value = _stored().get(key)
    if value is None:
        value = DEFAULTS.get(key, default)
    return copy.copy(value) if isinstance(value, list | dict) else value


def put(key: str, value: Any) -> None:
    """Store `value` for `key` in the current transaction (the caller commits)."""
    db.session.info[_DIRTY] = True
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=json.dumps(value)))
    else:
        row.value = json.dumps(value)


def _forget_after(session: Session, *args: object) -> None:
    """This process changed settings: drop its copy once the change committed or rolled back."""
    if session.info.pop(_DIRTY, False):
        recent.forget(_KEY)


def init_app() -> None:
    """Listen for the end of transactions that changed a setting."""
    for name in ("after_commit", "after_soft_rollback"):
        if not event.contains(Session, name, _forget_after):
            event.listen(Session, name, _forget_after)
