"""A small closed-loop HTTP load generator (threads + http.client) shared by the bench scripts.

Each of N clients sends one request, waits for the answer, and sends the next until the time is
up; every request opens a fresh connection (gunicorn's sync workers close them anyway). Results
hold requests/s, p50/p99 latency and the status codes seen.
"""

from __future__ import annotations

import http.client
import re
import statistics
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Request = Callable[[Any, int], int]  # (client state, n) -> HTTP status


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def cookie(self) -> str:
        """The name=value pairs of every Set-Cookie header, as a Cookie header value."""
        return "; ".join(v.split(";", 1)[0] for v in self.headers.get_all("Set-Cookie") or [])


def fetch(
    host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict | None = None,
    timeout: float = 30,
) -> Response:
    """One HTTP request on its own connection."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return Response(answer.status, answer.headers, answer.read())
    finally:
        conn.close()


def form(values: dict) -> bytes:
    return urllib.parse.urlencode(values).encode()


def hidden(html: str, name: str) -> str:
    """The value of a hidden form field."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    return found.group(1) if found else ""


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)  # ms, of successful requests
    statuses: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 or status < 0)

    def line(self) -> str:
        codes = ", ".join(f"{k}×{v}" for k, v in sorted(self.statuses.items()))
        return (
            f"{self.name:<34} {self.rps:8.1f} req/s   p50 {self.pct(50):7.1f} ms   "
            f"p99 {self.pct(99):7.1f} ms   [{codes}]"
        )


def run(
    name: str,
    request: Request,
    concurrency: int,
    seconds: float,
    setup: Callable[[int], Any] | None = None,
    ok: tuple[int, ...] = (200,),
    pause: float = 0.0,
) -> Result:
    """Run `concurrency` clients for `seconds`; `setup(i)` prepares client i before the clock
    (then `pause` seconds pass, e.g. to wait out a form's time trap)."""
    states = [setup(i) if setup else None for i in range(concurrency)]
    time.sleep(pause)
    result = Result(name, seconds)
    lock = threading.Lock()
    counter = iter(range(10**9))
    start = threading.Event()
    deadline = [0.0]

    def client(state: Any) -> None:
        start.wait()
        latencies, statuses = [], Counter()
        while time.perf_counter() < deadline[0]:
            with lock:
                n = next(counter)
            began = time.perf_counter()
            try:
                status = request(state, n)
            except (OSError, http.client.HTTPException):
                status = -1
            statuses[status] += 1
            if status in ok:
                latencies.append((time.perf_counter() - began) * 1000)
        with lock:
            result.latencies.extend(latencies)
            result.statuses.update(statuses)

    threads = [threading.Thread(target=client, args=(s,)) for s in states]
    for t in threads:
        t.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.set()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - began
    return result


def wait_http(
    host: str,
    port: int,
    path: str = "/",
    timeout: float = 60,
    proc: subprocess.Popen | None = None,
    log: Path | None = None,
) -> None:
    """Wait until a server answers on `path` (any status below 500)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail}")
        try:
            if fetch(host, port, "GET", path, timeout=5).status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no answer from {host}:{port}{path} after {timeout}s")


# --- Margins and PostgreSQL helpers shared by the bench scripts -------------------------------

ROOT = Path(__file__).resolve().parents[1]
BODY = "A *thoughtful* reply with a [link](https://example.org) and\n\n> a quote.\n\nThanks!"


def pg_database(prefix: str) -> tuple[str, Callable[[], None]]:
    """A throwaway PostgreSQL database on 127.0.0.1:5432: its URL and a function dropping it."""
    import uuid

    import psycopg

    from tests.support.servers import PG_ADMIN_URL

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")

    def drop() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{url}/{name}", drop


def margins_env(home: Path, database_url: str, broker_url: str | None = None, **extra) -> dict:
    """The environment of a Margins process for a benchmark (rate limits off: documented)."""
    from tests.support.processes import process_env

    return process_env(
        home,
        database_url,
        broker_url,
        RATELIMIT_ENABLED="false",
        SITE_URL="http://127.0.0.1",
        **extra,
    )


def margins_app(env: dict):
    """An in-process app on the same database and broker as the servers, for setup and checks."""
    from service import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"].replace(
                "postgresql://", "postgresql+psycopg://"
            ),
            "CELERY_BROKER_URL": env["CELERY_BROKER_URL"],
            "MARGINS_HOME": env["MARGINS_HOME"],
            "SECRET_KEY": env["SECRET_KEY"],
        }
    )


def prepare_margins(app, comments: int, title: str = "Benchmarks") -> str:
    """Migrate, allow back-to-back posts (flood check 0 s), add an issue with `comments`
    approved, threaded comments; return its slug."""
    from flask_migrate import upgrade

    from service.cli.setup import declare_broker_queue
    from service.core import settings
    from service.core.rendering import comment_markdown_to_html
    from service.extensions import db
    from service.models import Comment
    from tests.factories import make_issue

    with app.app_context():
        upgrade()
        if app.config["CELERY_BROKER_URL"].startswith("sqla+"):
            declare_broker_queue()
        settings.put("comments.flood_seconds", 0)
        settings.put("moderation.notify", False)
        db.session.commit()
        issue = make_issue(title)
        html = comment_markdown_to_html(BODY)
        ids: list[int] = []
        for i in range(comments):
            row = Comment(
                issue_id=issue.id,
                parent_id=ids[i // 3] if i % 3 and ids else None,
                author_name=f"Reader {i}",
                author_email=f"reader{i}@example.net",
                author_url="https://example.org" * (i % 2),
                avatar_key=f"{i:032x}",
                body_md=BODY,
                body_html=html,
                status="approved",
            )
            db.session.add(row)
            db.session.flush()
            ids.append(row.id)
        db.session.commit()
        slug = issue.slug
        db.engine.dispose()
    return slug


def start(cmd: list[str], env: dict, log: Path, cwd: Path = ROOT) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def gunicorn(python: str, app: str, port: int, workers: int = 2) -> list[str]:
    """gunicorn on loopback; GUNICORN_THREADS=N (default 1: sync workers) for gthread workers."""
    import os

    threads = os.environ.get("GUNICORN_THREADS", "1")
    return [
        python,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        threads,
        "--graceful-timeout",
        "5",
        "--timeout",
        "60",
        app,
    ]


def margins_poster(port: int, slug: str):
    """(setup, request) posting comments as a browser does: GET the page for the session
    cookie, CSRF token and form stamp (run with pause > comments.min_seconds, the time trap),
    then POST distinct comments."""

    def setup(i: int) -> dict:
        page = fetch("127.0.0.1", port, "GET", f"/issues/{slug}")
        html = page.body.decode()
        form_html = html[html.index('id="commentform"') :]
        return {
            "cookie": page.cookie(),
            "csrf": hidden(form_html, "csrf_token"),
            "stamp": hidden(form_html, "stamp"),
        }

    def request(state: dict, n: int) -> int:
        body = comment_form(state, n).encode()
        answer = fetch(
            "127.0.0.1",
            port,
            "POST",
            f"/issues/{slug}/comments",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": state["cookie"]},
        )
        return answer.status

    return setup, request


def comment_form(state: dict, n: int | str) -> str:
    """The comment form as a browser sends it (the same text as Isso's bench comments); with
    n="{n}", a template for wrk."""
    values = {
        "author": "Poster NUMBER",
        "email": "posterNUMBER@example.net",
        "url": "",
        "comment": f"{BODY}\n\nComment NUMBER.",
        "csrf_token": state["csrf"],
        "stamp": state["stamp"],
    }
    return urllib.parse.urlencode(values).replace("NUMBER", str(n))


# --- wrk (apt install wrk): a C load generator, used for reads when installed -----------------


@dataclass
class WrkResult(Result):
    """What wrk reports: requests/s and latency percentiles (no per-request samples)."""

    measured_rps: float = 0.0
    percentiles: dict[int, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.measured_rps

    def pct(self, q: float) -> float:
        return self.percentiles.get(int(q), float("nan"))

    def line(self) -> str:
        bad = ", ".join(f"{k}×{v}" for k, v in sorted(self.statuses.items()) if k >= 400 or k < 0)
        good = sum(v for k, v in self.statuses.items() if 0 <= k < 400)
        return (
            f"{self.name:<34} {self.rps:8.1f} req/s   p50 {self.pct(50):7.1f} ms   "
            f"p99 {self.pct(99):7.1f} ms   [2xx/3xx×{good}{', ' + bad if bad else ''}]"
        )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


#: wrk's Lua side for POSTs: each thread numbers its requests (distinct bodies: no duplicates);
#: the body template and headers come from files named on the command line.
_WRK_POST = """
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  local f = io.open(args[1], "r"); template = f:read("*a"); f:close()
  base = tonumber(args[2]); counter = 0
  wrk.method = "POST"
  for line in io.lines(args[3]) do
    local k, v = line:match("^([^:]+): (.*)$")
    if k then wrk.headers[k] = v end
  end
end
function request()
  counter = counter + 1
  local n = tostring(base + tid * 10000000 + counter)
  return wrk.format(nil, nil, nil, (template:gsub("{n}", n)))
end
"""


@dataclass
class Post:
    """A POST for wrk: the body with `{n}` where each request's number goes, and headers."""

    body: str
    headers: dict[str, str]
    base: int = 0


def wrk(
    name: str, url: str, concurrency: int, seconds: float, post: Post | None = None
) -> WrkResult | None:
    """Run wrk against `url` (a GET, or `post`); None when wrk is not installed."""
    import shutil
    import tempfile

    if not shutil.which("wrk"):
        return None
    extra: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        if post is not None:
            files = {
                "post.lua": _WRK_POST,
                "body": post.body,
                "headers": "".join(f"{k}: {v}\n" for k, v in post.headers.items()),
            }
            for file, text in files.items():
                Path(tmp, file).write_text(text)
            extra = [
                "-s",
                f"{tmp}/post.lua",
                url,
                "--",
                f"{tmp}/body",
                str(post.base),
                f"{tmp}/headers",
            ]
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(concurrency),
                "-d",
                f"{int(seconds)}s",
                "--latency",
                "--timeout",
                "10s",
                *(extra or [url]),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    result = WrkResult(f"{name} [wrk]", seconds)
    result.measured_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    for q, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE):
        result.percentiles[int(q)] = float(value) * _UNITS[unit]
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(bad.group(1)) if bad else 0
    result.statuses.update({200: total - failed})
    if failed:
        result.statuses[500] += failed  # wrk does not say which; counted as errors
    if errors:
        result.statuses[-1] += sum(int(n) for n in errors.groups())
    return result


def merge(parts: list[Result]) -> Result:
    """One result from several rounds of the same measurement (interleaved with others, so
    that a change in the machine's background load hits every contender alike)."""
    seconds = sum(p.seconds for p in parts)
    if isinstance(parts[0], WrkResult):
        merged = WrkResult(parts[0].name, seconds)
        merged.measured_rps = sum(p.rps * p.seconds for p in parts) / seconds
        merged.percentiles = {
            50: statistics.fmean(p.pct(50) for p in parts),
            99: max(p.pct(99) for p in parts),
        }  # the worst round's p99
    else:
        merged = Result(parts[0].name, seconds)
        for part in parts:
            merged.latencies.extend(part.latencies)
    for part in parts:
        merged.statuses.update(part.statuses)
    return merged
