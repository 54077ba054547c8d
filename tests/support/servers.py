"""Finding the machine's servers, and the CI rule: absent outside CI skips, under CI fails."""

from __future__ import annotations

import os
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require(available: bool, what: str) -> None:
    """Skip with a reason when `what` is missing; under CI=true, fail instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is not available, and CI=true requires it", pytrace=False)
    pytest.skip(f"{what} is not available on this machine")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
