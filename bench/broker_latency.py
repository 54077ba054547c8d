"""Task latency (enqueue → task ran) on the embedded broker options and on Redis, same run.

Starts a real Celery worker for each broker, sends `maintenance.ping` N times one after another
and measures when the worker's heartbeat row shows the token. Prints p50/p99 and the ratio to
Redis. Usage: .venv/bin/python bench/broker_latency.py [N]
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service import create_app
from tests.support import processes


def measure(broker: str, n: int, poll: float | None = None) -> list[float]:
    home = Path(tempfile.mkdtemp(prefix="margins-bench-"))
    db_path = home / "margins.sqlite"
    broker = broker.format(home=home)
    extra = {"BROKER_POLL_INTERVAL": str(poll)} if poll else {}
    env = processes.process_env(home, f"sqlite:///{db_path}", broker, **extra)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "CELERY_BROKER_URL": broker,
            "MARGINS_HOME": str(home),
            **({"BROKER_POLL_INTERVAL": poll} if poll else {}),
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        from service.cli.setup import declare_broker_queue
        from service.core.queue import enqueue

        upgrade()
        declare_broker_queue()
        worker = processes.start_worker(env, home / "worker.log", concurrency=1)
        try:
            enqueue("maintenance.ping", "warm-up")
            processes.wait_for(
                lambda: _token(db_path) and "warm-up" in _token(db_path), 60, what="worker start"
            )
            latencies = []
            for i in range(n):
                token = f"t{i}"
                start = time.perf_counter()
                enqueue("maintenance.ping", token)
                while token not in (_token(db_path) or ""):
                    time.sleep(0.002)
                latencies.append((time.perf_counter() - start) * 1000)
                time.sleep(0.05 + (i % 7) * 0.013)  # arrivals not in step with the poll
            return latencies
        finally:
            processes.stop(worker)
            shutil.rmtree(home, ignore_errors=True)


def _token(db_path: Path) -> str | None:
    with sqlite3.connect(db_path, timeout=5) as conn:
        row = conn.execute("SELECT value FROM settings WHERE key='worker.heartbeat'").fetchone()
    return row[0] if row else None


def report(name: str, values: list[float]) -> float:
    values = sorted(values)
    p50 = statistics.median(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    print(
        f"{name:<38} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   mean {statistics.mean(values):7.1f} ms"
    )
    return p50


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    results = {}
    results["sqla+sqlite, poll 1.0 s (kombu default)"] = measure(
        "sqla+sqlite:///{home}/broker.sqlite", n, poll=1.0
    )
    results["sqla+sqlite, poll 0.1 s (Margins default)"] = measure(
        "sqla+sqlite:///{home}/broker.sqlite", n, poll=0.1
    )
    if socket.socket().connect_ex(("127.0.0.1", 6379)) == 0:
        results["redis://127.0.0.1:6379"] = measure("redis://127.0.0.1:6379/14", n)
    print(f"task latency, {n} tasks each, enqueue → task visible in the database")
    p50s = {name: report(name, values) for name, values in results.items()}
    if "redis://127.0.0.1:6379" in p50s:
        base = p50s["redis://127.0.0.1:6379"]
        for name, p50 in p50s.items():
            print(f"  ratio to Redis p50: {name}: {p50 / base:.1f}x")


if __name__ == "__main__":
    main()
