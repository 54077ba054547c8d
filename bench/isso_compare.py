"""Margins beside Isso, same machine, same run: reading a 200-comment thread and posting comments.

Isso (PyPI `isso`) is installed into its own venv under the temp dir (reused by later runs) and
served by gunicorn with 2 workers on SQLite, guard (rate limit) off, moderation off. Margins is
served by gunicorn with 2 workers (`service.wsgi:app`), once on SQLite with the embedded broker
and once on PostgreSQL (a throwaway database on 127.0.0.1:5432) with Redis as broker. Both get
the same 200 approved comments (every third a top-level comment, the others replies).

Both are loaded by `wrk` when it is installed (`apt-get install wrk`: a C client leaves the
2 CPUs to the servers), else by the Python load generator in bench/_load.py (closed loop, one
connection per request). Reading: Margins' full HTML issue page vs Isso's `GET /?uri=…` JSON.
Posting (wrk numbers each request in a Lua script, so every comment is distinct): Margins'
comment form POST as a browser sends it (session cookie, CSRF token, signed form stamp past the
3 s time trap; stored pending with moderation due; no worker runs) vs Isso's `POST /new`, the
same Markdown text for both. For the
benchmark only, Margins runs with RATELIMIT_ENABLED=false and comments.flood_seconds=0 (the
per-IP limits would refuse one machine's load); every other check stays on.

    .venv/bin/python bench/isso_compare.py [SECONDS] [CONCURRENCY]     (default 15 s, 8)
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import _load as load

from tests.support import processes, servers

COMMENTS = 200
ROUNDS = 3
URI = "/issues/benchmarks"
ISSO_VENV = Path(tempfile.gettempdir()) / "margins-bench-isso-venv"
ISSO_CFG = """[general]
dbpath = {db}
host = http://127.0.0.1:{port}/
notify = stdout
gravatar = false
[moderation]
enabled = false
[guard]
enabled = false
[server]
listen = http://127.0.0.1:{port}
"""


def isso_python() -> str:
    """The venv with Isso and gunicorn (created with pip on first use)."""
    python = ISSO_VENV / "bin" / "python"
    if not (ISSO_VENV / "bin" / "gunicorn").exists():
        shutil.rmtree(ISSO_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(ISSO_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "isso", "gunicorn"], check=True)
    return str(python)


def isso_data(n: int | str, parent: int | None = None) -> dict:
    return {
        "text": f"{load.BODY}\n\nComment {n}.",
        "author": f"Reader {n}",
        "email": f"reader{n}@example.net",
        "website": None,
        "parent": parent,
        "title": "Benchmarks",
    }


def isso_new(port: int, n: int, parent: int | None = None) -> load.Response:
    return load.fetch(
        "127.0.0.1",
        port,
        "POST",
        f"/new?uri={URI}",
        json.dumps(isso_data(n, parent)).encode(),
        {"Content-Type": "application/json"},
    )


def poster(
    name: str,
    port: int,
    path: str,
    post: load.Post,
    seconds: float,
    clients: int,
    fallback: load.Request,
    ok: tuple[int, ...],
) -> load.Result:
    """POST distinct comments under load: with wrk when installed, else Python threads."""
    found = load.wrk(name, f"http://127.0.0.1:{port}{path}", clients, seconds, post)
    return found or load.run(name, fallback, clients, seconds, ok=ok)


def reader(name: str, port: int, path: str, seconds: float, clients: int) -> load.Result:
    """GET `path` under load: with wrk when installed (less client CPU), else Python threads."""
    found = load.wrk(name, f"http://127.0.0.1:{port}{path}", clients, seconds)
    return found or load.run(
        name, lambda s, n: load.fetch("127.0.0.1", port, "GET", path).status, clients, seconds
    )


@dataclass
class Target:
    """One contender, started: how to measure its reading and its posting for N seconds."""

    key: str
    read: Callable[[float], load.Result]
    post: Callable[[float], load.Result]


def start_isso(home: Path, clients: int, stack: ExitStack) -> Target:
    python = isso_python()
    port = servers.free_port()
    cfg = home / "isso.cfg"
    cfg.write_text(ISSO_CFG.format(db=home / "isso.db", port=port))
    log = home / "isso.log"
    proc = load.start(
        load.gunicorn(python, "isso.run", port),
        dict(os.environ, ISSO_SETTINGS=str(cfg)),
        log,
        cwd=home,
    )
    stack.callback(processes.stop, proc)
    load.wait_http("127.0.0.1", port, "/info", proc=proc, log=log)
    ids: list[int] = []
    for i in range(COMMENTS):  # the same shape as Margins' thread; Isso nests one level
        answer = isso_new(port, i, ids[i // 3] if i % 3 and ids else None)
        assert answer.status == 201, answer.body[:300]
        ids.append(json.loads(answer.body)["id"])
    first = load.fetch("127.0.0.1", port, "GET", f"/?uri={URI}")
    assert json.loads(first.body)["total_replies"] == COMMENTS
    rounds = itertools.count(1)

    def post(seconds: float) -> load.Result:
        base = next(rounds) * 10**9
        body = load.Post(json.dumps(isso_data("{n}")), {"Content-Type": "application/json"}, base)
        return poster(
            "Isso POST /new",
            port,
            f"/new?uri={URI}",
            body,
            seconds,
            clients,
            lambda s, n: isso_new(port, base + n).status,
            ok=(201,),
        )

    return Target(
        "isso", lambda t: reader("Isso GET /?uri= (JSON)", port, f"/?uri={URI}", t, clients), post
    )


def start_margins(
    key: str,
    label: str,
    home: Path,
    database_url: str,
    broker: str | None,
    clients: int,
    stack: ExitStack,
) -> Target:
    env = load.margins_env(home, database_url, broker)
    slug = load.prepare_margins(load.margins_app(env), COMMENTS)
    port = servers.free_port()
    log = home / "gunicorn.log"
    proc = load.start(load.gunicorn(sys.executable, "service.wsgi:app", port), env, log)
    stack.callback(processes.stop, proc)
    load.wait_http("127.0.0.1", port, f"/issues/{slug}", proc=proc, log=log)
    page = load.fetch("127.0.0.1", port, "GET", f"/issues/{slug}").body.decode()
    assert f"{COMMENTS} responses to" in page
    setup, request = load.margins_poster(port, slug)
    states: list[dict] = []
    rounds = itertools.count()

    def post(seconds: float) -> load.Result:
        if not states:  # a browser's page view per client, then the time trap's 3 s
            states.extend(setup(i) for i in range(clients))
            time.sleep(3.2)
        base = next(rounds) * 10**9  # distinct comments in every round (no 409 duplicates)
        body = load.Post(
            load.comment_form(states[0], "{n}"),
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": states[0]["cookie"]},
            base,
        )
        return poster(
            f"Margins {label}: comment POST",
            port,
            f"/issues/{slug}/comments",
            body,
            seconds,
            clients,
            lambda s, n: request(states[n % clients], base + n),
            ok=(303,),
        )

    return Target(
        key,
        lambda t: reader(
            f"Margins {label}: issue page (HTML)", port, f"/issues/{slug}", t, clients
        ),
        post,
    )


def verdict(name: str, ratio: float, goal: float) -> str:
    return f"{name}: {ratio:.2f}× Isso (goal ≥ {goal}×) {'met' if ratio >= goal else 'MISSED'}"


def measure(targets: list[Target], seconds: float) -> dict[str, tuple[load.Result, ...]]:
    """Reading, then posting: ROUNDS interleaved rounds per contender, merged."""
    parts: dict[str, dict[str, list]] = {t.key: {"read": [], "post": []} for t in targets}
    for phase in ("read", "post"):
        for _ in range(ROUNDS):
            for target in targets:
                parts[target.key][phase].append(getattr(target, phase)(seconds / ROUNDS))
    return {key: (load.merge(p["read"]), load.merge(p["post"])) for key, p in parts.items()}


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 15
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    root = Path(tempfile.mkdtemp(prefix="margins-isso-"))
    print(
        f"{COMMENTS} approved comments, {clients} concurrent clients, {seconds:g} s each "
        f"(in {ROUNDS} interleaved rounds), gunicorn with 2 sync workers for both; "
        f"{os.cpu_count()} CPUs"
    )
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        for name in ("isso", "sqlite", "pg"):
            (root / name).mkdir()
        targets = [
            start_isso(root / "isso", clients, stack),
            start_margins(
                "sqlite",
                "SQLite",
                root / "sqlite",
                f"sqlite:///{root / 'sqlite' / 'margins.sqlite'}",
                None,
                clients,
                stack,
            ),
        ]
        if servers.reachable("127.0.0.1", 5432):
            url, drop = load.pg_database("margins_bench")
            stack.callback(drop)
            redis = "redis://127.0.0.1:6379/13" if servers.reachable("127.0.0.1", 6379) else None
            targets.append(
                start_margins("pg", "PostgreSQL", root / "pg", url, redis, clients, stack)
            )
        results = measure(targets, seconds)
    report(results)


def report(results: dict) -> None:
    isso_read, isso_post = results["isso"]
    print()
    for read, post in results.values():
        print(read.line())
        print(post.line())
    print()
    for key, label in (("sqlite", "SQLite"), ("pg", "PostgreSQL")):
        if key not in results:
            continue
        read, post = results[key]
        print(
            verdict(f"reading, {label}", read.rps / isso_read.rps, 1.5)
            + f"; p99 {read.pct(99):.1f} ms (goal < 50 ms) "
            + ("met" if read.pct(99) < 50 else "MISSED")
        )
        print(
            verdict(f"posting, {label}", post.rps / isso_post.rps, 2)
            + f"; p50 {post.pct(50):.1f} ms vs Isso {isso_post.pct(50):.1f} ms"
        )
    errors = sum(r.errors for pair in results.values() for r in pair)
    print(f"5xx or connection errors across all runs: {errors}")


if __name__ == "__main__":
    started = time.time()
    main()
    print(f"(took {time.time() - started:.0f} s)")
