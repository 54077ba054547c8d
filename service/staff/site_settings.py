"""The site settings page: name, description, time zone, comment and digest numbers, bios."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.core import audit, settings
from service.core.addresses import has_control
from service.core.errors import FieldErrors
from service.extensions import db
from service.models import Author

INTEGERS = {  # key: (label, lowest, highest)
    "comments.close_after_days": ("Close comments after (days, 0 = never)", 0, 36500),
    "comments.max_depth": ("Reply depth", 1, 10),
    "comments.purge_after_days": ("Delete spam and trash after (days)", 1, 3650),
    "comments.ip_retention_days": ("Erase commenter IPs after (days)", 1, 3650),
    "comments.flood_seconds": ("Seconds between two comments from one sender (0 = off)", 0, 3600),
    "comments.min_seconds": ("Fastest human post after the page (seconds, 0 = off)", 0, 600),
    "comments.max_links": ("Most links allowed in a comment", 0, 100),
    "comments.reply_notices_per_hour": ("Reply emails per address per hour", 1, 60),
    "newsletter.digest_weekday": ("Weekly digest day", 0, 6),
    "newsletter.digest_hour": ("Digest hour", 0, 23),
}


def validate(form: dict) -> dict:
    """Check the settings form; return {key: value} or raise FieldErrors."""
    errors, values = {}, {}
    name_value = (form.get("site.name") or "").strip()
    if not name_value or len(name_value) > 200 or has_control(name_value):
        errors["site.name"] = "The site name needs 1 to 200 printable characters."
    values["site.name"] = name_value
    values["site.description"] = (form.get("site.description") or "").strip()[:500]
    tz = (form.get("site.timezone") or "").strip()
    try:
        ZoneInfo(tz)
        values["site.timezone"] = tz
    except (ZoneInfoNotFoundError, ValueError):
        errors["site.timezone"] = f"“{tz}” is not a time zone (e.g. Europe/Paris)."
    for key, (label, low, high) in INTEGERS.items():
        if key not in form:  # a field the page did not send keeps its value
            values[key] = settings.get(key)
            continue
        try:
            number = int(form.get(key, ""))
            if not low <= number <= high:
                raise ValueError
            values[key] = number
        except ValueError:
            errors[key] = f"{label}: a whole number from {low} to {high}."
    if errors:
        raise FieldErrors(errors)
    return values


def save(form: dict, bios: dict[int, str], actor: str) -> list[str]:
    """Validate and store the settings and author bios; return the changed keys; commit."""
    values = validate(form)
    changed = [key for key, value in values.items() if settings.get(key) != value]
    for key in changed:
        settings.put(key, values[key])
    for author_id, bio in bios.items():
        author = db.session.get(Author, author_id)
        if author is not None and author.bio != bio.strip()[:500]:
            author.bio = bio.strip()[:500]
            changed.append(f"author.{author_id}.bio")
    if changed:
        audit.record("settings.changed", "settings", None, actor, keys=changed)
    db.session.commit()
    return changed
