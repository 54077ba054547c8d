"""Signed, purpose-salted, expiring tokens for every emailed link."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

DAY = 24 * 3600


class TokenError(ValueError):
    """A link that is tampered with, expired, or meant for something else."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"margins:{purpose}")


def make(purpose: str, payload) -> str:
    """Sign `payload` for one purpose (e.g. 'confirm', 'moderate:approve')."""
    return _serializer(purpose).dumps(payload)


def read(purpose: str, token: str, max_age: int = 7 * DAY):
    """Return the payload of a token made for `purpose` no longer than `max_age` s ago."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError("This link has expired.") from None
    except BadSignature:
        raise TokenError("This link is not valid.") from None
