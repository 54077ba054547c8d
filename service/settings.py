"""Site settings an admin changes at run time, stored as JSON in the settings table.

Each area registers its defaults in DEFAULTS; `get` falls back to them.
"""

from __future__ import annotations

import json
from typing import Any

from .extensions import db
from .models import Setting

DEFAULTS: dict[str, Any] = {
    "site.description": "",
    "comments.close_after_days": 0,  # 0: never close automatically
    "comments.max_depth": 3,
}


def get(key: str, default: Any = None) -> Any:
    """The stored value of `key`, else its registered default, else `default`."""
    row = db.session.get(Setting, key)
    if row is not None:
        return json.loads(row.value)
    return DEFAULTS.get(key, default)


def put(key: str, value: Any) -> None:
    """Store `value` for `key` in the current transaction (the caller commits)."""
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=json.dumps(value)))
    else:
        row.value = json.dumps(value)
