"""Make sure Debian's Chromium is installed for the browser tests (run by `make test`).

As root it installs the `chromium` package with apt-get when missing. Otherwise it says what to
do; the browser tests then skip with that reason (or fail, under CI=true).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = "/usr/bin/chromium"


def main() -> int:
    if os.path.exists(CHROMIUM):
        return 0
    if not shutil.which("apt-get") or os.geteuid() != 0:
        print(
            "browser tests: /usr/bin/chromium missing; install it with "
            "`sudo apt-get install -y chromium` (the tests skip without it)"
        )
        return 0
    print("browser tests: installing Debian's chromium with apt-get …", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        result = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=False)
        if result.returncode != 0:
            print(f"browser tests: `{' '.join(cmd)}` failed ({result.returncode})")
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
