"""Every header Margins writes, in one place: the checks on user text, From, the bulk-mail
headers (RFC 2369, RFC 8058, List-Id), and the VERP envelope addresses that name a subscriber.

Every newsletter message goes out with the envelope sender bounces+<id>-<mac>@<domain>, so a
bounce names its subscriber without reading the body; the List-Unsubscribe mailto address has
the same shape.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from email.utils import formataddr
from urllib.parse import urlsplit

from flask import current_app

from service.core import site
from service.core.addresses import has_control

_VERP = re.compile(r"^(bounces|unsubscribe)\+(\d+)-([0-9a-f]{12})@", re.IGNORECASE)


class HeaderInjectionError(ValueError):
    """A header value built from user input contained CR, LF or another control character."""


def safe_header(value: str) -> str:
    """Refuse header values with control characters (CR/LF header injection)."""
    if has_control(value):
        raise HeaderInjectionError("header values may not contain control characters")
    return value


def site_domain() -> str:
    return urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"


def sender() -> str:
    configured = current_app.config.get("MAIL_FROM")
    if configured:
        return configured
    return formataddr((site.name(), f"newsletter@{site_domain()}"))


def _mac(purpose: str, subscriber_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{subscriber_id}".encode(), hashlib.sha256).hexdigest()[:12]


def bounce_domain() -> str:
    return current_app.config.get("BOUNCE_DOMAIN") or site_domain()


def verp_address(subscriber_id: int) -> str:
    """The envelope sender for one subscriber: bounces+ID-MAC@domain (lower-case safe)."""
    return f"bounces+{subscriber_id}-{_mac('bounces', subscriber_id)}@{bounce_domain()}"


def unsubscribe_address(subscriber_id: int) -> str:
    """The List-Unsubscribe mailto address for one subscriber."""
    return f"unsubscribe+{subscriber_id}-{_mac('unsubscribe', subscriber_id)}@{bounce_domain()}"


def parse_verp(address: str) -> tuple[str, int] | None:
    """('bounces'|'unsubscribe', subscriber id) for a genuine VERP address, else None."""
    match = _VERP.match(address.strip().strip("<>"))
    if not match:
        return None
    purpose, sid, mac = match.group(1).lower(), int(match.group(2)), match.group(3).lower()
    return (purpose, sid) if hmac.compare_digest(mac, _mac(purpose, sid)) else None


def list_id() -> str:
    """List-Id: the site's name and a stable list identifier under its domain."""
    name = site.name().replace('"', "")
    return f'"{name}" <newsletter.{site_domain()}>'


def bulk_headers(
    subscriber_id: int, one_click_url: str, archived_at: str | None = None
) -> dict[str, str]:
    """Every bulk header: unsubscribe (RFC 2369 + RFC 8058), List-Id, Archived-At, bulk."""
    headers = {
        "List-Unsubscribe": f"<{one_click_url}>, "
        f"<mailto:{unsubscribe_address(subscriber_id)}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": list_id(),
        "Precedence": "bulk",
        "Auto-Submitted": "auto-generated",
    }
    if archived_at:
        headers["Archived-At"] = f"<{archived_at}>"
    return headers


def one_click_headers(stop_url: str) -> dict[str, str]:
    """List-Unsubscribe (RFC 8058 one-click) for a transactional stream, e.g. reply notices."""
    return {
        "List-Unsubscribe": f"<{stop_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
