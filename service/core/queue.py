"""Enqueue Celery tasks by name from domain code (no import of worker/ here).

A failed enqueue never fails the request: the row that needed the work records it, and a beat
sweep enqueues it again (the transactional-outbox pattern).
"""

from __future__ import annotations

import logging

from flask import current_app

log = logging.getLogger(__name__)


def enqueue(task_name: str, *args, countdown: float | None = None) -> bool:
    """Send task `task_name`; return False (and log) when the broker cannot be reached."""
    celery_app = current_app.extensions["celery"]
    try:
        celery_app.send_task(task_name, args=args, countdown=countdown, retry=False)
        return True
    except Exception:  # broker down: the outbox sweep will catch up
        log.warning("could not enqueue %s%r; the sweep will retry", task_name, args, exc_info=True)
        return False
