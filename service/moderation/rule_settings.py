"""The moderation settings page: word lists, bans, flags, numbers and the classifier's
thresholds, validated and stored in one transaction."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from service.core import audit, settings
from service.core.errors import FieldErrors
from service.extensions import db


def _error(field: str, message: str) -> FieldErrors:
    return FieldErrors({field: message})


LIST_KEYS = ("words", "disallowed_words", "banned_emails", "banned_domains", "banned_ips")
FLAG_KEYS = ("hold_all", "require_known", "notify")
NUMBER_KEYS = {
    "max_links": (0, 100),
    "notify_interval_minutes": (1, 1440),
    "link_days": (1, 30),
    "classifier_min_trained": (1, 100000),
}


def current() -> dict:
    """The moderation settings as the settings page shows them."""
    keys = LIST_KEYS + FLAG_KEYS + tuple(NUMBER_KEYS) + ("spam_threshold", "hold_threshold")
    return {key: settings.get(f"moderation.{key}") for key in keys}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _number(form: Mapping[str, str], key: str, low: float, high: float) -> int:
    try:
        value = int(form.get(key, ""))
    except ValueError:
        raise _error(key, f"{key.replace('_', ' ')} must be a whole number") from None
    if not low <= value <= high:
        raise _error(key, f"{key.replace('_', ' ')} must be between {low} and {high}")
    return value


def _hold_threshold(form: Mapping[str, str], spam_threshold: float) -> float:
    """The classifier score from which a comment is held: 0 to the spam threshold."""
    raw = form.get("hold_threshold")
    if raw is None or raw == "":
        return float(settings.get("moderation.hold_threshold"))
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= max(spam_threshold, 0.5):
        raise _error(
            "hold_threshold", "the hold threshold must be between 0 and the spam threshold"
        )
    return value


def configure(form: Mapping[str, str], actor: str) -> None:
    """Validate and store the settings page's values in one transaction."""
    values: dict = {key: _lines(form.get(key, "")) for key in LIST_KEYS}
    for entry in values["banned_ips"]:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise _error("banned_ips", f"{entry!r} is not an IP address or range") from None
    values.update({key: bool(form.get(key)) for key in FLAG_KEYS})
    values.update({key: _number(form, key, *bounds) for key, bounds in NUMBER_KEYS.items()})
    try:
        threshold = float(form.get("spam_threshold", ""))
    except ValueError:
        threshold = -1.0
    if not 0.5 <= threshold <= 1.0:
        raise _error("spam_threshold", "the spam threshold must be between 0.5 and 1 (1: never)")
    values["spam_threshold"] = threshold
    values["hold_threshold"] = _hold_threshold(form, threshold)
    changed = [key for key, value in values.items() if settings.get(f"moderation.{key}") != value]
    for key in changed:
        settings.put(f"moderation.{key}", values[key])
    audit.record("settings.moderation", "settings", None, actor=actor, changed=changed)
    db.session.commit()
