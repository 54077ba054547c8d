"""axe-core accessibility checks in a Playwright page.

axe-core comes from the npm registry, pinned in tests/support/npm/package.json and its lock
file. The first use runs `npm ci` into a cache directory keyed by the lock file
(`$MARGINS_TEST_CACHE`, default ~/.cache/margins-test); later runs reuse it.

    from tests.support.axe import axe_violations, format_violations

    page.goto(f"{live_server}/archive")
    found = axe_violations(page)  # critical and serious, by default
    assert not found, format_violations(found)

The script is injected with `page.evaluate`, which the page's Content-Security-Policy
(`script-src 'self'`) does not govern; `page.add_script_tag(content=...)` would be blocked.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from functools import cache
from pathlib import Path

from tests.support import servers

NPM_DIR = Path(__file__).resolve().parent / "npm"
CACHE = Path(os.environ.get("MARGINS_TEST_CACHE", Path.home() / ".cache" / "margins-test"))
IMPACTS = ("minor", "moderate", "serious", "critical")

_RUN = """async ([context, options]) => {
  const result = await axe.run(context || document, options);
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, tags: v.tags,
    nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
  }));
}"""


def version() -> str:
    """The pinned axe-core version."""
    return json.loads((NPM_DIR / "package.json").read_text())["dependencies"]["axe-core"]


def install_dir() -> Path:
    """Where this lock file's node_modules lives (installed or not)."""
    digest = hashlib.sha256((NPM_DIR / "package-lock.json").read_bytes()).hexdigest()[:12]
    return CACHE / f"npm-{digest}"


def _npm_ci(target: Path) -> str | None:
    """Install the pinned packages into `target`; None on success, else why not."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not on PATH"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be installing it too
        if (target / "node_modules" / "axe-core" / "axe.min.js").exists():
            return None
        work = Path(tempfile.mkdtemp(prefix="npm-", dir=target.parent))
        try:
            for name in ("package.json", "package-lock.json"):
                shutil.copy(NPM_DIR / name, work / name)
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if done.returncode != 0:
                return f"`npm ci` failed: {(done.stderr or done.stdout).strip()[-500:]}"
            if target.exists():
                shutil.rmtree(target)
            work.rename(target)  # whole or not at all
            return None
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"`npm ci` failed: {error}"
        finally:
            shutil.rmtree(work, ignore_errors=True)


@cache
def _load() -> tuple[str | None, str]:
    """(axe.min.js, "") once installed, else (None, why not); worked out once per process."""
    script = install_dir() / "node_modules" / "axe-core" / "axe.min.js"
    why = None if script.exists() else _npm_ci(install_dir())
    if why is not None:
        return None, why
    return script.read_text(encoding="utf-8"), ""


def axe_source() -> str:
    """axe.min.js, installing it first if needed (skips, or fails under CI, when it can't)."""
    source, why = _load()
    servers.require(source is not None, f"axe-core {version()} from npm ({why})")
    return source


def inject(page) -> None:
    """Load axe into the page's main frame and its child frames, unless already there."""
    source = None
    for frame in page.frames:
        try:
            if frame.evaluate("typeof window.axe !== 'undefined'"):
                continue
            source = source or axe_source()
            frame.evaluate(source + "\n;undefined")
        except Exception:  # a frame that went away or refuses: axe skips it
            if frame is page.main_frame:
                raise


def _timers_run(page, wait: float = 1.0) -> bool:
    """Whether the document runs timers: not when a CSP `sandbox` disables its scripts."""
    page.evaluate("window.__axeTick = false; setTimeout(() => { window.__axeTick = true }, 0)")
    deadline = time.monotonic() + wait
    while not page.evaluate("window.__axeTick === true"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def axe_violations(
    page, impacts=("critical", "serious"), *, context=None, options: dict | None = None
) -> list[dict]:
    """axe's violations on the page's current document, at the given impacts.

    Each: id, impact, help, helpUrl, tags, nodes [{target, html, summary}]. `context` is an
    axe context (a selector, or {"include": ..., "exclude": ...}); `options` go to axe.run.
    """
    inject(page)
    if not _timers_run(page):  # axe.run would wait for ever
        raise RuntimeError(
            f"{page.url}: this document runs no scripts (a CSP `sandbox`?), so "
            "axe cannot check it; check its HTML on about:blank "
            "(page.set_content) instead"
        )
    options = {"resultTypes": ["violations"], **(options or {})}
    found = page.evaluate(_RUN, [context, options])
    return [v for v in found if impacts is None or v["impact"] in impacts]


def _target(target) -> str:
    # one selector per frame (or shadow root) on the way down
    return " >>> ".join(t if isinstance(t, str) else " >> ".join(t) for t in target)


def format_violations(violations: list[dict], max_nodes: int = 5) -> str:
    """A readable list for an assertion message."""
    lines = [f"{len(violations)} axe violation(s):"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:max_nodes]:
            html = node["html"] if len(node["html"]) <= 160 else node["html"][:157] + "..."
            lines.append(f"    {_target(node['target'])}  {html}")
        if len(v["nodes"]) > max_nodes:
            lines.append(f"    ... and {len(v['nodes']) - max_nodes} more")
    return "\n".join(lines)


def assert_accessible(page, impacts=("critical", "serious"), **kwargs) -> None:
    """Fail with a readable list when axe finds violations at these impacts."""
    found = axe_violations(page, impacts, **kwargs)
    assert not found, f"{page.url}\n{format_violations(found)}"
