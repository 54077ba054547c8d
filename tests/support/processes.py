"""Start the real processes (Celery worker, `margins run`) for round-trip tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def process_env(home: Path, database_url: str, broker_url: str | None = None, **extra: str) -> dict:
    """Environment for a child process sharing the test's database and a file broker."""
    env = dict(os.environ)
    env.update(
        MARGINS_HOME=str(home),
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url or f"sqla+sqlite:///{home}/broker.sqlite",
        SECRET_KEY="test-secret-key-that-is-long-enough-for-production-0123456789",
        SITE_URL="http://margins.test",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_worker(
    env: dict, log: Path, concurrency: int = 2, beat: bool = False, pool: str = "threads"
) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "worker.celery",
        "worker",
        "--loglevel",
        "INFO",
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if beat:
        cmd += ["--beat", "--schedule", f"{env['MARGINS_HOME']}/celerybeat-schedule"]
    return subprocess.Popen(
        cmd,
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_for(
    check: Callable[[], object], timeout: float = 30, interval: float = 0.1, what: str = "condition"
):
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
