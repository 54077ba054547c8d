"""The moderation feed: a thread in every worker that turns due comments into moderation tasks.

It polls the comments table every MODERATION_POLL_SECONDS (0.1 s by default; an idle poll is
one index read), claims what is due and enqueues `moderation.moderate_comment` for each
(service/feed.py). After a batch it polls again at once; after an error (database or
broker down) it backs off, doubling up to 10 s, and carries on when they are back.
"""

from __future__ import annotations

import logging
import threading

from celery import bootsteps
from flask import Flask

from service.moderation import feed as moderation_feed

log = logging.getLogger(__name__)
MAX_BACKOFF = 10.0


def run(app: Flask, stop: threading.Event, interval: float) -> None:
    """Poll, claim and enqueue until `stop` is set; back off while the database or broker is
    down."""
    backoff = interval
    while not stop.is_set():
        try:
            with app.app_context():
                sent = moderation_feed.dispatch()
            backoff = interval
        except Exception as exc:
            log.warning(
                "moderation feed: %s; next try in %.1f s",
                exc,
                backoff,
                exc_info=not isinstance(exc, moderation_feed.BrokerUnavailable),
            )
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        if not sent:
            stop.wait(interval)


class ModerationFeed(bootsteps.StartStopStep):
    """Starts the feed thread with the worker and stops it on shutdown."""

    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker, **kwargs):
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()

    def start(self, worker) -> None:
        app = worker.app.flask_app
        interval = float(app.config["MODERATION_POLL_SECONDS"])
        self.thread = threading.Thread(
            target=run, args=(app, self.stop_event, interval), name="moderation-feed", daemon=True
        )
        self.thread.start()

    def stop(self, worker) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=15)

    shutdown = stop
