"""`margins run` starts web + worker + beat on the embedded default, and Ctrl-C stops them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.support import processes, servers


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode()
    except OSError:
        return None


@pytest.mark.slow
def test_margins_run_serves_and_stops_cleanly_on_ctrl_c(tmp_path):
    port = servers.free_port()
    env = dict(os.environ, MARGINS_HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1")
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "SMTP_URL", "SITE_URL", "SECRET_KEY"):
        env.pop(name, None)
    log = tmp_path / "run.log"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from service.cli import main; main()", "run", "--port", str(port)],
        env=env,
        cwd=processes.ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        home = processes.wait_for(
            lambda: _get(f"http://127.0.0.1:{port}/"), timeout=60, what="the web server"
        )
        assert "Why I write in the margins" in home
        processes.wait_for(
            lambda: "ready." in log.read_text(), timeout=60, what="the worker to be ready"
        )
        output = log.read_text()
        assert "password:" in output and "admin@example.com" in output
        assert (tmp_path / "home" / "margins.sqlite").exists()
        assert (tmp_path / "home" / "broker.sqlite").exists()
        wal = tmp_path / "home" / "margins.sqlite-wal"
        assert wal.exists(), "the database runs in WAL mode"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        assert proc.wait(timeout=30) == 0
        assert "Margins stopped." in log.read_text()
        assert _get(f"http://127.0.0.1:{port}/") is None
    finally:
        processes.stop(proc, signal.SIGKILL)
