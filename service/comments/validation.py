"""What a comment's fields may hold: WordPress's limits, one line for names, http(s) websites."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from service.comments import guards
from service.core.addresses import AddressError, has_control, normalize_email, strip_control

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?!\d)")

#: WordPress's limits, in characters.
LIMITS = {"name": 245, "email": 100, "url": 200, "body": 65525}
LABELS = {"name": "name", "email": "email address", "url": "website address", "body": "comment"}


class CommentError(ValueError):
    """A post that cannot be accepted: `status` is the HTTP code, `errors` maps field → message."""

    def __init__(self, message: str, status: int = 400, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message, self.status, self.errors = message, status, errors or {}


def clean_email(raw: str) -> str:
    """A commenter's address in its one stored form, or ValueError with the reader's message."""
    try:
        return normalize_email(raw)
    except AddressError:
        raise ValueError("Please enter a valid email address.") from None


def clean_url(raw: str) -> str:
    """A commenter's website: http(s) only; a bare host gets http://."""
    if not raw:
        return ""
    if _SCHEME.match(raw) and not raw.lower().startswith(("http:", "https:")):
        raise ValueError("Please enter a website address starting with http:// or https://.")
    url = raw if "://" in raw else "http://" + raw
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
        raise ValueError("Please enter a website address starting with http:// or https://.")
    return url


def validate(name: str, email: str, url: str, body: str) -> dict[str, str]:
    """The cleaned name, email, url and body, or CommentError listing every problem."""
    values = {
        "name": name.strip(),
        "email": email.strip(),
        "url": url.strip(),
        "body": body.replace("\r\n", "\n").strip(),
    }
    errors: dict[str, str] = {}
    for field in ("name", "email", "body"):
        if not values[field]:
            errors[field] = f"Please enter your {LABELS[field]}."
    for field, limit in LIMITS.items():
        if len(values[field]) > limit:
            errors[field] = f"Your {LABELS[field]} is too long (at most {limit:,} characters)."
    for field in ("name", "email", "url"):
        if has_control(values[field]):
            errors[field] = (
                f"Your {LABELS[field]} may not contain line breaks or control characters."
            )
    values["body"] = strip_control(values["body"])
    for field, cleaner in (("email", clean_email), ("url", clean_url)):
        if field not in errors and values[field]:
            try:
                values[field] = cleaner(values[field])
            except ValueError as exc:
                errors[field] = str(exc)
    if "body" not in errors and (problem := guards.links_problem(values["body"])):
        errors["body"] = problem
    if errors:
        raise CommentError("Please correct the fields marked below.", 400, errors)
    return values
