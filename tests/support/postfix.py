"""A real, private, strict Postfix on loopback, for wire-format strictness tests.

Each `PrivatePostfix` gets its own temp directory (config, queue, data, log), listens on
127.0.0.1:<free port> and relays everything to a sink on 127.0.0.1:<relay_port>; optional
`lmtp_for`/`smtp_for` send some recipients to another loopback server instead. It never
reads or writes /etc/postfix/main.cf and never listens on port 25. Needs root (Postfix
daemons start as root and drop to the `postfix` user).

Found on Debian 12 (postfix 3.7.11-0+deb12u1), and relied on here:
- `smtpd_forbid_bare_newline` (3.7.9 had only `yes` = reply and disconnect; 3.7.10 changed
  it to what is here, per Debian's changelog): values `no` (default),
  `normalize` (alias `yes`: accept bare LF as CRLF, only insist on CRLF.CRLF) and
  `reject` (answer `smtpd_forbid_bare_newline_reject_code`, 550 by default:
  "550 5.5.2 <host> Error: bare <LF> received"). The exclusions default to `$mynetworks`,
  which would exempt our loopback clients, so we set the exclusions empty. `start()` probes
  it ("EHLO\\n" must get a 5xx) and refuses to run a Postfix that is not strict.
- `postfix -c DIR start` works without listing DIR in `alternate_config_directories` of
  /etc/postfix/main.cf (Postfix checks that list for the set-gid postdrop/postqueue, which we
  never use: mail comes in over SMTP), and without any /etc/postfix/main.cf at all (the
  "No configuration" install has none). `postfix start` also creates the queue directories
  with the right owners (post-install create-missing); only data/ is chowned here.
- Postfix re-reads a config file whose mtime is "now" until the clock moves past it: a
  freshly written main.cf costs about 2 s per command, so we backdate what we write.
- `maillog_file` needs the `postlog` service in master.cf and a path under
  `maillog_file_prefixes` (default /var, /dev/stdout), so we set the prefix to our temp dir.
- A bare CR is NOT rejected: `cleanup_replace_stray_cr_lf = yes` (new in 3.7.10) silently
  turns it into a space. NUL and 8-bit bytes pass through untouched.
- `smtp_line_length_limit = 998`: Postfix's SMTP client breaks longer lines by inserting
  CRLF SPACE, so an unencoded 1000+ character line does NOT arrive intact.
- Loopback clients match the default `local_header_rewrite_clients`, so Postfix would add a
  missing Message-ID/Date; we set it empty, so only a Received header is added (no
  Return-Path: that is added by final delivery, not by a relay).
- `postfix stop` is `kill <master pid>` plus a poll that often sleeps a whole second;
  `stop()` sends that SIGTERM itself, waits until no live process is left in the master's
  process group (counting only processes working in our queue dir, so a stale pid cannot
  hit anyone else), then SIGKILLs the group if needed. The master's children are reparented
  to PID 1; in containers whose PID 1 reaps lazily they linger as zombies for a moment.
- `master -w` takes 2-3 s to report a failed start (e.g. the port is taken).

Usage: the `postfix_relay` fixture (import it into a test module), or
`with postfix_relay_context(lmtp_for={"reply@replies.test": port}) as relay: ...`, or
`PrivatePostfix(...)` as a context manager around your own sink. Set MARGINS_KEEP_POSTFIX=1
to keep the temp dir for a post-mortem.
"""

from __future__ import annotations

import functools
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP

from tests.support import servers
from tests.support.smtp import Sink, SMTPServer

POSTFIX = Path("/usr/sbin/postfix")
POSTCONF = Path("/usr/sbin/postconf")
WANTED = "a private Postfix (apt-get install postfix)"
HOST = "127.0.0.1"
KEEP_ENV = "MARGINS_KEEP_POSTFIX"  # set to 1 to keep the temp dir for a post-mortem

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
{host}:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
lmtp      unix  -       -       n       -       -       lmtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PostfixUnavailable(RuntimeError):
    """Postfix is not installed (and could not be), or we may not run it."""


class PostfixError(RuntimeError):
    """The private instance could not be configured, started or checked."""


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAIL_")}
    env.update(LANG="C", LC_ALL="C", DEBIAN_FRONTEND="noninteractive")
    return env


def _run(cmd: list[str], timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd, check=False, capture_output=True, text=True, timeout=timeout, env=_env(), **kw
    )


def _stop_system_postfix() -> None:
    """Stop a system Postfix the package install may have started (ours never run there)."""
    if Path("/run/systemd/system").is_dir():
        _run(["systemctl", "stop", "postfix.service"], timeout=60)
    if Path("/etc/postfix/main.cf").exists() and _run([str(POSTFIX), "status"]).returncode == 0:
        _run([str(POSTFIX), "stop"], timeout=60)


@functools.cache
def ensure_installed() -> bool:
    """Install Debian's postfix when missing and we are root; whether it is there."""
    if POSTFIX.exists():
        return True
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    preseed = "postfix postfix/main_mailer_type select No configuration\n"
    _run(["debconf-set-selections"], input=preseed)
    install = [
        "apt-get",
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "-o",
        "DPkg::Lock::Timeout=300",
        "postfix",
    ]
    try:
        if _run(install, timeout=600).returncode != 0:
            _run(["apt-get", "update", "-q", "-o", "DPkg::Lock::Timeout=300"], timeout=600)
            _run(install, timeout=600)
    except subprocess.TimeoutExpired:
        pass
    if POSTFIX.exists():
        _stop_system_postfix()
    return POSTFIX.exists()


@functools.cache
def postconf_defaults() -> dict[str, str]:
    """`postconf -d` of the installed Postfix, as a dict."""
    out = _run([str(POSTCONF), "-d"]).stdout
    return dict(
        line.split(" = ", 1) if " = " in line else (line.rstrip(" ="), "")
        for line in out.splitlines()
    )


def version() -> str:
    return postconf_defaults().get("mail_version", "unknown")


def strict_settings() -> dict[str, str]:
    """main.cf settings that make smtpd reject bare LF from every client, loopback too."""
    defaults = postconf_defaults()
    missing = [
        p
        for p in ("smtpd_forbid_bare_newline", "smtpd_forbid_bare_newline_exclusions")
        if p not in defaults
    ]
    if missing:
        raise PostfixUnavailable(
            f"Postfix {version()} has no {', '.join(missing)}; strict "
            "bare-newline tests need 3.7.10 or newer (or 3.5.24/3.6.14/3.8.5)"
        )
    return {"smtpd_forbid_bare_newline": "reject", "smtpd_forbid_bare_newline_exclusions": ""}


def _processes_in_group(pgid: int, cwd: Path) -> list[int]:
    """Live (non-zombie) processes in process group `pgid` whose working directory is `cwd`.

    Postfix daemons run in their queue directory; checking it means a stale pid can never
    make us signal somebody else's processes.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # state ppid pgrp ...
        if int(fields[2]) != pgid or fields[0] in ("Z", "X"):
            continue
        try:
            if Path(os.readlink(entry / "cwd")) == cwd:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


class PrivatePostfix:
    """One private Postfix: smtpd on 127.0.0.1:`port`, relaying to 127.0.0.1:`relay_port`.

    `lmtp_for`/`smtp_for` map transport_maps keys to loopback ports: a domain
    ("replies.test": every address there) or an address ("reply@replies.test": with the
    default recipient_delimiter "+", also reply+TOKEN@replies.test). `settings` overrides
    or adds main.cf parameters.
    """

    def __init__(
        self,
        relay_port: int,
        *,
        lmtp_for: dict[str, int] | None = None,
        smtp_for: dict[str, int] | None = None,
        port: int | None = None,
        hostname: str = "postfix.margins.test",
        strict: bool = True,
        settings: dict[str, str] | None = None,
        startup_timeout: float = 20.0,
    ):
        self.relay_port = relay_port
        self.transports = {key: f"lmtp:[{HOST}]:{p}" for key, p in (lmtp_for or {}).items()}
        self.transports.update({key: f"smtp:[{HOST}]:{p}" for key, p in (smtp_for or {}).items()})
        self.fixed_port = port
        self.port = port or 0
        self.hostname = hostname
        self.strict = strict
        self.settings = dict(settings or {})
        self.startup_timeout = startup_timeout
        self.root: Path | None = None
        self.master_pid: int | None = None

    # Paths inside the temp dir.
    @property
    def config_dir(self) -> Path:
        return self.root / "conf"

    @property
    def queue_dir(self) -> Path:
        return self.root / "queue"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "maillog"

    def main_cf(self) -> dict[str, str]:
        """The main.cf this instance runs with."""
        cf = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue_dir),
            "data_directory": str(self.data_dir),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "syslog_name": f"postfix-private-{self.port}",
            "maillog_file": str(self.log_path),
            "maillog_file_prefixes": str(self.root),
            "inet_interfaces": HOST,
            "inet_protocols": "ipv4",
            "myhostname": self.hostname,
            "myorigin": "$myhostname",
            "mydestination": "",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "mynetworks": "127.0.0.0/8",
            "relay_domains": "",
            "relayhost": f"[{HOST}]:{self.relay_port}",
            "transport_maps": f"texthash:{self.config_dir / 'transport'}",
            "recipient_delimiter": "+",
            "smtp_host_lookup": "native",
            "smtp_dns_support_level": "disabled",
            "lmtp_host_lookup": "native",
            "lmtp_dns_support_level": "disabled",
            "smtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none",
            "smtpd_peername_lookup": "no",
            "local_header_rewrite_clients": "",
            "biff": "no",
            # Nothing lingers: retry within a second or two, give up after half a minute,
            # never retry bounces, and send no postmaster notices (they would reach the sink).
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "maximal_queue_lifetime": "30s",
            "bounce_queue_lifetime": "0",
            "delay_warning_time": "0",
            "notify_classes": "",
        }
        if self.strict:
            cf.update(strict_settings())
        cf.update(self.settings)
        return cf

    def _write_config(self) -> None:
        text = "".join(f"{name} = {value}\n" for name, value in self.main_cf().items())
        (self.config_dir / "main.cf").write_text(text)
        (self.config_dir / "master.cf").write_text(MASTER_CF.format(host=HOST, port=self.port))
        (self.config_dir / "transport").write_text(
            "".join(f"{key} {where}\n" for key, where in self.transports.items())
        )
        # Postfix re-reads a file modified "just now" until its mtime is in the past (about
        # 2 s per fresh main.cf), so backdate what we wrote.
        past = time.time() - 60
        for name in ("main.cf", "master.cf", "transport"):
            os.utime(self.config_dir / name, (past, past))

    def _make_dirs(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="margins-postfix-"))
        self.root.chmod(0o755)  # the postfix user has to reach data/ and the queue
        for sub in ("conf", "queue"):
            (self.root / sub).mkdir(mode=0o755)
        self.data_dir.mkdir(mode=0o700)
        owner = pwd.getpwnam("postfix")
        os.chown(self.data_dir, owner.pw_uid, owner.pw_gid)

    def _postfix(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return _run([str(POSTFIX), "-c", str(self.config_dir), *args], timeout=timeout)

    def start(self) -> Self:
        if not ensure_installed():
            raise PostfixUnavailable("Postfix is not installed and could not be installed")
        if os.geteuid() != 0:
            raise PostfixUnavailable("running a private Postfix needs root")
        try:
            self._make_dirs()
            for _attempt in range(3):
                self.port = self.fixed_port or servers.free_port()
                self._write_config()
                seen = len(self.log())
                done = self._postfix("start", timeout=60)
                if done.returncode == 0:
                    break
                if self.fixed_port or "Address already in use" not in self.log()[seen:]:
                    raise self._error(f"`postfix -c {self.config_dir} start` failed", done)
            else:
                raise self._error("no free port after 3 attempts", done)
            self.master_pid = self._read_master_pid()
            self._wait_until_listening()
            if self.strict:
                self._check_strict()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_master_pid(self) -> int | None:
        try:
            return int((self.queue_dir / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while not servers.reachable(HOST, self.port, timeout=0.5):
            if time.monotonic() > deadline:
                raise self._error(
                    f"nothing accepts connections on {HOST}:{self.port} "
                    f"after {self.startup_timeout:.0f}s"
                )
            time.sleep(0.05)

    def _check_strict(self) -> None:
        """A bare LF in a command has to be refused, or the instance is not strict."""
        with socket.create_connection((HOST, self.port), timeout=10) as sock:
            stream = sock.makefile("rb")
            greeting = stream.readline()
            sock.sendall(b"EHLO strictness-probe\n")
            reply = stream.readline()
        if not reply.startswith(b"5"):
            raise self._error(
                f"smtpd_forbid_bare_newline is not in force: greeting {greeting!r}"
                f", bare-LF EHLO answered {reply!r}"
            )

    def _error(self, what: str, done: subprocess.CompletedProcess | None = None) -> PostfixError:
        parts = [f"private Postfix {version()} on {HOST}:{self.port}: {what}"]
        if done is not None:
            parts.append(f"exit {done.returncode}; output:\n{done.stdout}{done.stderr}".rstrip())
        parts.append(f"log tail ({self.log_path}):\n{self.log_tail()}")
        return PostfixError("\n".join(parts))

    def stop(self, timeout: float = 15) -> None:
        """Stop the instance, wait for all its processes, and remove the temp dir."""
        if self.root is None:
            return
        pgid = self.master_pid or self._read_master_pid()
        if pgid is None:
            if (self.config_dir / "main.cf").exists() and (self.queue_dir / "pid").exists():
                self._postfix("stop", timeout=timeout)
        elif self._live(pgid):
            # What `postfix stop` does (kill the master, which kills its process group),
            # without its one-second polling sleep; then wait for every process.
            try:
                os.kill(pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self._wait_gone(pgid, timeout)
            if self._live(pgid):
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._wait_gone(pgid, 5)
        self.master_pid = None
        if os.environ.get(KEEP_ENV) != "1":
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def _live(self, pgid: int) -> list[int]:
        """This instance's live processes: in the master's group, working in our queue dir."""
        return _processes_in_group(pgid, self.queue_dir)

    def _wait_gone(self, pgid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._live(pgid) and time.monotonic() < deadline:
            time.sleep(0.02)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.master_pid is not None and bool(self._live(self.master_pid))

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, TypeError):
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:]) or "(empty)"

    def wait_for_log(self, pattern: str, timeout: float = 10) -> re.Match:
        """The first match of regex `pattern` in the log, waiting for it to be written."""
        deadline = time.monotonic() + timeout
        while (match := re.search(pattern, self.log())) is None:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{pattern!r} not in the Postfix log after {timeout}s; tail:\n{self.log_tail()}"
                )
            time.sleep(0.05)
        return match

    def postconf(self, name: str) -> str:
        """The value the instance actually uses for `name`."""
        return _run([str(POSTCONF), "-c", str(self.config_dir), "-h", name]).stdout.strip()

    def client(self, timeout: float = 10) -> smtplib.SMTP:
        """A connected smtplib client (call .ehlo() yourself if you need the features)."""
        return smtplib.SMTP(HOST, self.port, local_hostname="client.margins.test", timeout=timeout)


class LMTPSink(Sink):
    """A Sink for LMTP: one reply line per recipient, as LMTP requires after DATA."""

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        return "\r\n".join([answer] * len(envelope.rcpt_tos))


class _LMTPController(Controller):
    def factory(self):
        return LMTP(self.handler, **self.SMTP_kwargs)


class LMTPServer(SMTPServer):
    """An aiosmtpd LMTP server on loopback (LHLO, per-recipient replies) keeping messages."""

    def __init__(self, port: int):
        self.sink = LMTPSink()
        self.controller = _LMTPController(self.sink, hostname=HOST, port=port)
        self.port = port


@dataclass
class PostfixRelay:
    """A started private Postfix and the sink it relays to."""

    postfix: PrivatePostfix
    sink: Sink

    @property
    def port(self) -> int:
        return self.postfix.port

    def send(
        self,
        message: bytes,
        sender: str = "sender@margins.test",
        recipients: list[str] | None = None,
    ) -> dict:
        """Send raw bytes as-is (no newline fixing) over SMTP; smtplib dot-stuffs."""
        with self.postfix.client() as client:
            return client.sendmail(sender, recipients or ["reader@example.test"], message)

    def wait_for(self, count: int = 1, timeout: float = 10, sink: Sink | None = None) -> list:
        """The first `count` envelopes the sink received, or AssertionError with the log."""
        return wait_for(sink or self.sink, count, timeout, self.postfix)


def wait_for(
    sink: Sink, count: int = 1, timeout: float = 10, postfix: PrivatePostfix | None = None
) -> list:
    """Wait until `sink` holds `count` envelopes; fail with the Postfix log tail if not."""
    deadline = time.monotonic() + timeout
    while len(sink.envelopes) < count:
        if time.monotonic() > deadline:
            tail = postfix.log_tail() if postfix else ""
            raise AssertionError(
                f"{len(sink.envelopes)} of {count} messages reached the sink "
                f"in {timeout}s; Postfix log tail:\n{tail}"
            )
        time.sleep(0.02)
    with sink.lock:
        return list(sink.envelopes[:count])


def start_or_skip(postfix: PrivatePostfix) -> PrivatePostfix:
    """Start `postfix`; if that is impossible, skip (fail under CI=true) saying why."""
    try:
        return postfix.start()
    except (PostfixUnavailable, PostfixError) as error:
        lines = str(error).splitlines()
        shown = lines if len(lines) <= 9 else [*lines[:1], "...", *lines[-8:]]
        servers.require(False, f"{WANTED}: {' | '.join(shown)}")
        raise  # not reached: require() skips or fails


@contextmanager
def postfix_relay_to(sink_server: SMTPServer, **kwargs) -> Iterator[PostfixRelay]:
    """A private Postfix relaying to an already started sink server; prints its log at the end.

    Printing in teardown means pytest shows the log only for failing tests.
    """
    postfix = start_or_skip(PrivatePostfix(sink_server.port, **kwargs))
    try:
        yield PostfixRelay(postfix, sink_server.sink)
    finally:
        print(f"--- private Postfix log ({postfix.log_path}) ---\n{postfix.log_tail(60)}")
        postfix.stop()


@contextmanager
def postfix_relay_context(**kwargs) -> Iterator[PostfixRelay]:
    """A fresh sink on a free port and a private Postfix relaying everything to it."""
    with (
        SMTPServer(servers.free_port()) as sink_server,
        postfix_relay_to(sink_server, **kwargs) as relay,
    ):
        yield relay


@pytest.fixture
def postfix_relay() -> Iterator[PostfixRelay]:
    """A strict private Postfix relaying to its own aiosmtpd sink (`.send`, `.wait_for`)."""
    with postfix_relay_context() as relay:
        yield relay
