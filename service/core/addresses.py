"""The one place that decides what an email address, a name or a single line of text may be.

Every address Margins stores or compares goes through `normalize_email`, so a commenter, a
subscriber and a staff member typed in different cases are the same person everywhere (flood,
duplicate and history checks included).
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context

#: Unicode line and paragraph separators break lines in mail headers and logs, like CR and LF.
_SEPARATORS = {"\u2028", "\u2029"}


class AddressError(ValueError):
    """An address that cannot be used; the message says why (email-validator's words)."""


def is_control(ch: str) -> bool:
    """A control character (C0, DEL, C1) or a Unicode line separator."""
    return unicodedata.category(ch) == "Cc" or ch in _SEPARATORS


def has_control(value: str) -> bool:
    """Whether `value` holds a line break or any other control character."""
    return any(is_control(ch) for ch in value or "")


def strip_control(text: str, keep: str = "\n\t") -> str:
    """`text` without control characters, except those in `keep` (a body's newlines and tabs)."""
    return "".join(ch for ch in text if ch in keep or not is_control(ch))


def _check_deliverability() -> bool:
    return bool(has_app_context() and current_app.config.get("EMAIL_CHECK_DELIVERABILITY"))


def normalize_email(raw: str) -> str:
    """A valid address in its one stored form (email-validator's normalisation, lower-cased).

    Raises AddressError for control characters or an address that is not valid.
    """
    if has_control(raw):
        raise AddressError("An email address cannot contain line breaks or control characters.")
    try:
        checked = validate_email(
            raw.strip(), check_deliverability=_check_deliverability(), timeout=5
        )
    except EmailNotValidError as exc:
        raise AddressError(str(exc)) from None
    return checked.normalized.lower()


def email_key(address: str) -> str:
    """The comparable form of an address already stored (or typed): trimmed, lower-case."""
    return (address or "").strip().lower()


def clean_name(raw: str, limit: int = 200) -> str:
    """A display name on one line, spaces collapsed, at most `limit` characters.

    Raises AddressError when it holds a line break or another control character.
    """
    if has_control(raw):
        raise AddressError("A name cannot contain line breaks or control characters.")
    return " ".join((raw or "").split())[:limit]
