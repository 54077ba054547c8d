"""Settings: embedded defaults, then the environment (and a .env file), validated loudly."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PLACEHOLDER_SECRETS = {"", "dev", "change-me", "changeme", "secret"}


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def home_dir() -> Path:
    """Return MARGINS_HOME (default ./instance), creating it."""
    home = Path(os.environ.get("MARGINS_HOME") or "instance").resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home


def _dev_secret(home: Path) -> str:
    """Return a secret kept in MARGINS_HOME so sessions survive restarts in development."""
    path = home / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _secret_file(name: str) -> str | None:
    """Read NAME, or the file named by NAME_FILE (for container secrets)."""
    if os.environ.get(f"{name}_FILE"):
        return Path(os.environ[f"{name}_FILE"]).read_text().strip()
    return os.environ.get(name)


@dataclass(frozen=True)
class SMTPSettings:
    """One SMTP server, from smtp://user:pass@host:25, smtp+starttls://…:587 or smtps://…:465."""

    host: str
    port: int
    username: str | None
    password: str | None
    mode: str  # "plain", "starttls" or "ssl"

    @classmethod
    def from_url(cls, url: str) -> SMTPSettings:
        parts = urlsplit(url)
        mode = SMTP_SCHEMES.get(parts.scheme)
        if mode is None:
            raise ValueError(
                f"the scheme must be smtp, smtp+starttls or smtps, not {parts.scheme or 'none'!r}"
            )
        try:
            port = parts.port or DEFAULT_PORTS[mode]
        except ValueError:
            raise ValueError("the port must be a number") from None
        if not parts.hostname:
            raise ValueError("it names no host")
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            mode=mode,
        )


SMTP_SCHEMES = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "ssl"}
DEFAULT_PORTS = {"plain": 25, "starttls": 587, "ssl": 465}


def _smtp_urls(name: str, raw: str) -> str:
    """Check every comma-separated SMTP URL in NAME at start-up; return the value unchanged."""
    for url in (u.strip() for u in raw.split(",")):
        if not url:
            continue
        try:
            SMTPSettings.from_url(url)
        except ValueError as exc:
            shown = urlsplit(url)._replace(netloc=urlsplit(url).hostname or "").geturl()
            raise ConfigError(
                f"{name} is not a mail server URL ({exc}): {shown!r}; use "
                "smtp://host:25, smtp+starttls://user:pw@host:587 or "
                "smtps://user:pw@host:465"
            ) from None
    return raw


def _redis_url(name: str, raw: str) -> str:
    if raw and not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{name} must be a redis:// URL, not {raw!r}")
    return raw


def trust_proxies(app: Any) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client address from X-Forwarded-For
    (rate limits, flood checks and the IPs moderators see depend on it)."""
    hops = app.config.get("TRUSTED_PROXIES")
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix  # only behind a proxy

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)


def database_url(url: str) -> str:
    """Normalise postgres URLs to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_environment() -> dict[str, Any]:
    """Build the Flask config mapping from defaults and the environment; ConfigError (one line
    naming the variable) on the first bad value."""
    home = home_dir()
    production = os.environ.get("MARGINS_ENV", "development") == "production"
    return {
        **_identity(home, production),
        **_stores(home, production),
        **_mail(home),
        **_inbound(),
        **_web(production),
        **_tuning(),
    }


def _identity(home: Path, production: bool) -> dict[str, Any]:
    secret = _secret_file("SECRET_KEY")
    site_url = os.environ.get("SITE_URL")
    if production and (not secret or secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 32):
        raise ConfigError(
            "MARGINS_ENV=production needs SECRET_KEY: a random value of 32+ characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if production and not site_url:
        raise ConfigError("MARGINS_ENV=production needs SITE_URL, e.g. https://news.example.org")
    tz = os.environ.get("TIMEZONE", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TIMEZONE {tz!r} is not a known time zone (e.g. Europe/Paris)") from None
    return {
        "MARGINS_ENV": os.environ.get("MARGINS_ENV", "development"),
        "MARGINS_HOME": str(home),
        "SECRET_KEY": secret or _dev_secret(home),
        "SITE_URL": (site_url or "http://127.0.0.1:5000").rstrip("/"),
        "SITE_NAME": os.environ.get("SITE_NAME", "Margins"),
        "SITE_DESCRIPTION": os.environ.get("SITE_DESCRIPTION", "Essays, delivered."),
        "TIMEZONE": tz,
        "MARGINS_ADMIN_EMAIL": os.environ.get("MARGINS_ADMIN_EMAIL", ""),
    }


def _stores(home: Path, production: bool) -> dict[str, Any]:
    """The database, the broker and the rate-limit store."""
    ratelimit_storage = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    if (
        production
        and ratelimit_storage.startswith("memory://")
        and not _bool("MARGINS_SINGLE_PROCESS", False)
    ):
        raise ConfigError(
            "MARGINS_ENV=production needs RATELIMIT_STORAGE_URI=redis://… so rate limits are "
            "shared by every web process (or MARGINS_SINGLE_PROCESS=true for one process)"
        )
    database = _secret_file("DATABASE_URL") or f"sqlite:///{home / 'margins.sqlite'}"
    broker = _secret_file("CELERY_BROKER_URL") or f"sqla+sqlite:///{home / 'broker.sqlite'}"
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(database),
        "CELERY_BROKER_URL": broker,
        "RATELIMIT_STORAGE_URI": ratelimit_storage,
        "SENDRATE_URL": _redis_url("SENDRATE_URL", os.environ.get("SENDRATE_URL", "")),
    }


def _mail(home: Path) -> dict[str, Any]:
    """Mail servers (every URL parsed now, not at the first send), sender and bounces."""
    newsletter_urls = os.environ.get("NEWSLETTER_SMTP_URLS", "")
    return {
        "SMTP_URL": _smtp_urls("SMTP_URL", _secret_file("SMTP_URL") or ""),
        "NEWSLETTER_SMTP_URLS": _smtp_urls("NEWSLETTER_SMTP_URLS", newsletter_urls),
        "MAIL_FROM": os.environ.get("MAIL_FROM", ""),
        "MAILBOX_DIR": str(home / "mailbox"),
        "BOUNCE_DOMAIN": os.environ.get("BOUNCE_DOMAIN", ""),
        "BOUNCE_MAILDIR": os.environ.get("BOUNCE_MAILDIR", ""),
        "BOUNCE_WEBHOOK_SECRET": os.environ.get("BOUNCE_WEBHOOK_SECRET", ""),
        "EMAIL_CHECK_DELIVERABILITY": _bool("EMAIL_CHECK_DELIVERABILITY", False),
    }


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
INBOUND_PROTOCOLS = ("lmtp", "smtp")


def _reply_domain(raw: str) -> str:
    """REPLY_DOMAIN as the host name of reply addresses (IDNA-encoded, lower case)."""
    value = raw.strip().lower()
    if not value:
        return ""
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        value = "@"  # refused below
    if not _DOMAIN.match(value):
        raise ConfigError(
            f"REPLY_DOMAIN must be a domain name such as replies.example.org, not {raw!r}"
        )
    return value


def _inbound() -> dict[str, Any]:
    """Replies by email: the reply address domain and the three ways mail comes in."""
    port = _int("INBOUND_PORT", 2525)
    if not 0 < port < 65536:
        raise ConfigError(f"INBOUND_PORT must be a port number (1-65535), not {port}")
    protocol = os.environ.get("INBOUND_PROTOCOL", "lmtp").strip().lower()
    if protocol not in INBOUND_PROTOCOLS:
        raise ConfigError(f"INBOUND_PROTOCOL must be lmtp or smtp, not {protocol!r}")
    return {
        "REPLY_DOMAIN": _reply_domain(os.environ.get("REPLY_DOMAIN", "")),
        "REPLY_MAILDIR": os.environ.get("REPLY_MAILDIR", ""),
        "REPLY_WEBHOOK_SECRET": _secret_file("REPLY_WEBHOOK_SECRET") or "",
        "INBOUND_HOST": os.environ.get("INBOUND_HOST", "127.0.0.1"),
        "INBOUND_PORT": port,
        "INBOUND_PROTOCOL": protocol,
    }


def _web(production: bool) -> dict[str, Any]:
    """The web processes: proxies, rate limits, cookies."""
    return {
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "WEB_CONCURRENCY": _int("WEB_CONCURRENCY", 2),
        # Off only for load benchmarks (bench/isso_compare.py, bench/mixed_load.py).
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
    }


def _tuning() -> dict[str, Any]:
    return {
        "THREAD_CACHE_SIZE": _int("THREAD_CACHE_SIZE", 64),  # rendered threads kept per process
        "BROKER_POLL_INTERVAL": _float("BROKER_POLL_INTERVAL", 0.1),
        "MODERATION_POLL_SECONDS": _float("MODERATION_POLL_SECONDS", 0.1),
        "ISSUES_PER_PAGE": _int("ISSUES_PER_PAGE", 20),
    }
