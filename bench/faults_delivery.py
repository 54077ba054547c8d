"""Delivery faults: kill -9 a worker five times during a 10,000-subscriber send; a flaky SMTP server.

(a) N confirmed subscribers (default 10,000), one published issue, a real aiosmtpd sink in its own
    process that records every accepted recipient, and a real Celery worker (solo pool) killed with
    SIGKILL five times during the send. After each kill the script does what beat's
    `delivery.sweep` does once the lease has run out (it calls `service.newsletter.sweeps.sweep` with `now`
    moved past `newsletter.lease_seconds`, before the next worker starts, so no live claim is
    touched) and starts a new worker. PASS: every subscriber got at least one copy and there are
    at most five duplicates (one per kill).
(b) A sink answering 451 to a random 30% of messages and "550 5.1.1 user unknown" (at RCPT) for a
    fixed set of addresses. `newsletter.retry_base_seconds` is 0.2 s for the run,
    `newsletter.max_attempts` 12 (0.3^12: no row should run out of tries by bad luck) and
    `newsletter.pause_after_errors` is raised so the send does not pause itself; the script calls
    `sweeps.sweep()` every second as beat does every 30 s. PASS: every other subscriber got
    a copy (all rows sent), and exactly the fixed set is marked bounced.

Usage: .venv/bin/python bench/faults_delivery.py [--n 10000] [--db sqlite|postgresql]
       [--broker embedded|redis] [--only a|b]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from fanout import database, prepare

from service import create_app
from tests.support import processes, servers

KILLS = 5
REDIS = "redis://127.0.0.1:6379/14"


def _append(log: str, addresses: list[str]) -> None:
    with open(log, "a") as out:
        out.writelines(address + "\n" for address in addresses)


def run_sink(port: int, log: str, counter, ready, tempfail: float, unknown: list[str]) -> None:
    """An SMTP server (its own process) appending each accepted recipient to `log`."""
    from aiosmtpd.controller import Controller

    unknown_set = set(unknown)
    rng = random.Random(7)

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address in unknown_set:
                return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if tempfail and rng.random() < tempfail:
                return "451 4.3.0 Temporary local problem, try again later"
            _append(log, envelope.rcpt_tos)
            with counter.get_lock():
                counter.value += len(envelope.rcpt_tos)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


class Sink:
    def __init__(self, home: Path, tempfail: float = 0.0, unknown: list[str] | None = None):
        self.port = servers.free_port()
        self.log = home / "sink.log"
        self.count = multiprocessing.Value("i", 0)
        ready = multiprocessing.Event()
        self.proc = multiprocessing.Process(
            target=run_sink,
            daemon=True,
            args=(self.port, str(self.log), self.count, ready, tempfail, unknown or []),
        )
        self.proc.start()
        if not ready.wait(15):
            raise RuntimeError("the SMTP sink did not start")

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def copies(self) -> Counter:
        return Counter(self.log.read_text().split()) if self.log.exists() else Counter()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(5)


class Stack:
    """A database, a broker, an in-process app and a way to start workers."""

    def __init__(self, args, home: Path, sink: Sink):
        self.home = home
        self.db_url, self.drop = database(args.db, home)
        self.broker = (
            REDIS if args.broker == "redis" else f"sqla+sqlite:///{home / 'broker.sqlite'}"
        )
        if args.broker == "redis":
            import redis

            redis.Redis.from_url(REDIS).flushdb()
        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": self.db_url,
                "CELERY_BROKER_URL": self.broker,
                "MARGINS_HOME": str(home),
                "SMTP_URL": sink.url,
                "SITE_URL": "http://margins.test",
            }
        )
        self.env = processes.process_env(home, self.db_url, self.broker, SMTP_URL=sink.url)
        self.workers: list = []

    def worker(self) -> object:
        log = self.home / f"worker{len(self.workers)}.log"
        proc = processes.start_worker(self.env, log, concurrency=1, pool="solo")
        self.workers.append(proc)
        processes.wait_for(lambda: "ready" in log.read_text(), 60, what="worker start")
        return proc

    def close(self) -> None:
        for proc in self.workers:
            processes.stop(proc)
        if self.drop:
            self.drop()


def send_id_of(issue_id: int) -> int:
    from sqlalchemy import select

    from service.extensions import db
    from service.models import Send

    return db.session.scalar(select(Send.id).where(Send.issue_id == issue_id))


def kills(args, home: Path) -> bool:
    """(a) five SIGKILLs during the send."""
    from service.core import settings
    from service.extensions import db
    from service.models.base import utcnow
    from service.newsletter import ledger, sweeps
    from service.publishing import scheduling

    sink = Sink(home)
    stack = Stack(args, home, sink)
    try:
        with stack.app.app_context():
            issue_id = prepare(stack.app, args.n)
            settings.put("newsletter.parallel_tasks", 1)
            db.session.commit()
            lease = float(settings.get("newsletter.lease_seconds"))
            worker = stack.worker()
            began = time.perf_counter()
            scheduling.publish(issue_id)
            send_id = send_id_of(issue_id)
            step = args.n // (KILLS + 2)
            at_kills = []
            for k in range(1, KILLS + 1):
                processes.wait_for(
                    lambda k=k: sink.count.value >= k * step,
                    240,
                    0.02,
                    what=f"{k * step} messages before kill {k}",
                )
                processes.stop(worker, 9)
                at_kills.append(sink.count.value)
                db.session.commit()
                # What beat's sweep does once the dead worker's lease has run out.
                sweeps.sweep(now=utcnow() + timedelta(seconds=lease + 1))
                worker = stack.worker()

            def done() -> bool:
                db.session.commit()
                return ledger.progress(send_id)["done"] >= args.n

            processes.wait_for(done, 300, 0.1, what="the send to finish")
            elapsed = time.perf_counter() - began
            counts = ledger.progress(send_id)
        time.sleep(0.5)
        copies = sink.copies()
    finally:
        stack.close()
        sink.stop()
    expected = {f"reader{i:06d}@example.com" for i in range(args.n)}
    missing = len(expected - set(copies))
    once = sum(1 for a in expected if copies[a] == 1)
    twice = sum(1 for a in expected if copies[a] >= 2)
    duplicates = sum(copies[a] - 1 for a in expected if copies[a] >= 2)
    strangers = len(set(copies) - expected)
    ok = missing == 0 and duplicates <= KILLS and strangers == 0
    print(
        f"(a) kill -9 x{KILLS}: N={args.n} db={args.db} broker={args.broker}, "
        f"{elapsed:.1f} s, sink count at each kill: {at_kills}"
    )
    print(f"    ledger: {counts}")
    print(
        f"    recipients with 0 copies: {missing}, 1 copy: {once}, 2+ copies: {twice} "
        f"(duplicates {duplicates}, allowed <= {KILLS}); unknown recipients {strangers}"
    )
    print(f"{'PASS' if ok else 'FAIL'} (a) every subscriber got >= 1 copy, duplicates <= kills")
    return ok


def flaky(args, home: Path) -> bool:
    """(b) 451 to 30% of messages; 550 user unknown for a fixed set."""
    from sqlalchemy import func, select

    from service.core import settings
    from service.extensions import db
    from service.models import Delivery, Subscriber
    from service.newsletter import ledger, sweeps
    from service.publishing import scheduling

    n = args.n_flaky
    unknown = [f"reader{i:06d}@example.com" for i in range(0, n, n // 20)][:20]
    sink = Sink(home, tempfail=0.3, unknown=unknown)
    stack = Stack(args, home, sink)
    try:
        with stack.app.app_context():
            issue_id = prepare(stack.app, n)
            for key, value in (
                ("newsletter.retry_base_seconds", 0.2),
                ("newsletter.max_attempts", 12),
                ("newsletter.pause_after_errors", 10**9),
                ("newsletter.parallel_tasks", 1),
            ):
                settings.put(key, value)
            db.session.commit()
            stack.worker()
            began = time.perf_counter()
            scheduling.publish(issue_id)
            send_id = send_id_of(issue_id)
            while True:  # beat's delivery.sweep, every second instead of every 30 s
                time.sleep(1)
                db.session.commit()
                if ledger.progress(send_id)["done"] >= n or time.perf_counter() - began > 240:
                    break
                sweeps.sweep()
            elapsed = time.perf_counter() - began
            counts = ledger.progress(send_id)
            bounced = set(
                db.session.scalars(select(Subscriber.email).where(Subscriber.status == "bounced"))
            )
            retried = db.session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.send_id == send_id, Delivery.attempts > 1)
            )
        time.sleep(0.5)
        copies = sink.copies()
    finally:
        stack.close()
        sink.stop()
    wanted = {f"reader{i:06d}@example.com" for i in range(n)} - set(unknown)
    missing = len(wanted - set(copies))
    ok = missing == 0 and bounced == set(unknown) and counts.get("sent") == len(wanted)
    print(f"(b) 451 to 30%, 550 user unknown for {len(unknown)} of {n}: {elapsed:.1f} s")
    print(f"    ledger: {counts}; rows that needed a retry: {retried}")
    print(
        f"    delivered recipients {len(wanted & set(copies))}/{len(wanted)} "
        f"(missing {missing}, extra copies {sum(copies.values()) - len(set(copies))}); "
        f"bounced {len(bounced)} (exactly the 550 set: {bounced == set(unknown)})"
    )
    print(f"{'PASS' if ok else 'FAIL'} (b) all delivered after retries; the 550 set bounced")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--n-flaky", type=int, default=2_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--broker", choices=["embedded", "redis"], default="embedded")
    parser.add_argument("--only", choices=["a", "b"])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="margins-faults-"))
    ok = True
    try:
        for part, run in (("a", kills), ("b", flaky)):
            if args.only in (None, part):
                (root / part).mkdir()
                ok &= run(args, root / part)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
