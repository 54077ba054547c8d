"""kill -9 a real worker mid-send, restart: every subscriber ends with exactly one copy.

Only the one message in flight at the kill may arrive twice. The restart runs two worker
processes, so this also shows two workers never send the same row.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import timedelta

import pytest

from service.cli.setup import declare_broker_queue
from service.core import settings
from service.extensions import db
from service.models import Subscriber
from service.models.base import utcnow
from service.newsletter import ledger, sweeps
from tests.factories import make_issue
from tests.support import processes

N = 150


@pytest.fixture
def broker(app, tmp_path):
    url = f"sqla+sqlite:///{tmp_path}/broker.sqlite"
    app.extensions["celery"].conf.broker_url = url
    declare_broker_queue()
    return url


def start(tmp_path, db_url, broker, smtp, name):
    env = processes.process_env(tmp_path, db_url, broker, SMTP_URL=smtp.url)
    return processes.start_worker(env, tmp_path / f"{name}.log", concurrency=1, pool="solo")


@pytest.mark.slow
def test_kill_9_mid_send_then_restart_delivers_each_subscriber_exactly_once(
    app, smtp, tmp_path, db_url, broker
):
    for i in range(N):
        db.session.add(
            Subscriber(email=f"r{i:03d}@example.com", status="active", confirmed_at=utcnow())
        )
    settings.put("newsletter.batch_size", 20)
    db.session.commit()
    smtp.sink.reply = lambda envelope: time.sleep(0.01)  # a server slow enough to kill mid-send
    first = start(tmp_path, db_url, broker, smtp, "worker-1")
    try:
        make_issue("Exactly once")  # commits the ledger rows, then enqueues the drain tasks
        processes.wait_for(
            lambda: len(smtp.sink.messages) >= 40,
            timeout=90,
            what="the first worker to send some messages",
        )
        processes.stop(first, signal.SIGKILL)
        db.session.commit()
        at_kill = len(smtp.sink.messages)
        counts = ledger.progress(1)
        assert counts["sent"] < N and at_kill < N  # it died mid-send
        smtp.sink.reply = None
        lease = float(settings.get("newsletter.lease_seconds"))
        # What beat does once the lease has run out: the dead worker's claims go back to the
        # queue (done before the new workers start, so none of their fresh claims is "old").
        sweeps.sweep(now=utcnow() + timedelta(seconds=lease + 1))
        workers = [start(tmp_path, db_url, broker, smtp, f"worker-{n}") for n in (2, 3)]

        def finished():
            db.session.commit()
            return ledger.progress(1)["done"] == N

        processes.wait_for(finished, timeout=120, what="the restarted workers to finish")
    finally:
        for proc in [first, *locals().get("workers", [])]:
            processes.stop(proc)
    copies = Counter(m["To"] for m in smtp.sink.messages)
    assert set(copies) == {f"r{i:03d}@example.com" for i in range(N)}
    repeated = [address for address, n in copies.items() if n > 1]
    assert len(repeated) <= 1 and max(copies.values()) <= 2
    assert ledger.progress(1)["sent"] == N
