"""The beat schedule: periodic sweeps that finish whatever a lost message left undone."""

from __future__ import annotations

from flask import Flask


def beat_schedule(app: Flask) -> dict:
    schedule = {
        "publish-due-issues": {"task": "publishing.publish_due", "schedule": 15.0},
        "prune-broker": {"task": "maintenance.prune_broker", "schedule": 3600.0},
    }
    return schedule
