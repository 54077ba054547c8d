"""A built wheel carries the templates, migrations and static files, and works on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile

import pytest

from tests.support import processes

CHECK = """
from service import create_app
from service.cli.setup import prepare
app = create_app()
with app.app_context():
    prepare()
page = app.test_client().get("/").get_data(as_text=True)
assert "Why I write in the margins" in page, page[:500]
assert app.test_client().get("/static/margins.css").status_code == 200
print("WHEEL-OK")
"""


@pytest.mark.slow
def test_wheel_installs_and_serves_in_a_fresh_venv(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(dist),
            str(processes.ROOT),
        ],
        check=True,
    )
    (wheel,) = dist.glob("margins-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "service/templates/base.html" in names
    assert "service/templates/public/issue.html" in names
    assert any(n.startswith("service/migrations/versions/0001_") for n in names)
    assert "service/static/margins.css" in names
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "SMTP_URL", "PYTHONPATH")
    }
    env["MARGINS_HOME"] = str(tmp_path / "home")
    result = subprocess.run(
        [str(python), "-c", CHECK],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "WHEEL-OK" in result.stdout, result.stderr[-3000:]
