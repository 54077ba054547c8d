"""Subscribers in and out as CSV: import with consent, export with the current filters.

Import columns (header row, any order): email (required), name, consent, confirmed, delivery.
A row needs consent=yes; it becomes active only with confirmed=yes, otherwise pending and owed
a confirmation email. Addresses already on the list are left as they are (an unsubscribed
reader is never re-activated by an import).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from service.core import audit
from service.extensions import db
from service.models import DeliveryMode, Subscriber, SubscriberStatus
from service.models.base import parse_state, utcnow
from service.newsletter.subscriptions import SubscriptionError, clean_name, normalize_email

YES = {"1", "y", "yes", "true", "t", "x", "on"}
EXPORT_COLUMNS = (
    "email",
    "name",
    "status",
    "delivery",
    "reply_notifications",
    "source",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
)


class CSVFileError(ValueError):
    """The file as a whole cannot be read (no header, no email column)."""


@dataclass
class ImportReport:
    active: int = 0
    pending: int = 0
    skipped: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, value, why)

    def summary(self) -> str:
        return (
            f"{self.active} added as active, {self.pending} added awaiting confirmation, "
            f"{self.skipped} already on the list, {len(self.errors)} rows with errors"
        )


def _rows(text: str) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        raise CSVFileError("The first line must name the columns, including 'email'.")
    for row in reader:
        yield (
            reader.line_num,
            {
                (k or "").strip().lower(): (v or "").strip()
                for k, v in row.items()
                if isinstance(v, str)
            },
        )


def _check(row: dict) -> tuple[str, str, bool, str]:
    email = normalize_email(row.get("email", ""))
    if row.get("consent", "").lower() not in YES:
        raise SubscriptionError("no consent recorded (consent column must be yes)")
    delivery = parse_state(DeliveryMode, row.get("delivery", "").lower() or DeliveryMode.ISSUE)
    if delivery is None:
        raise SubscriptionError(f"delivery must be one of {', '.join(DeliveryMode)}")
    return email, clean_name(row.get("name", "")), row.get("confirmed", "").lower() in YES, delivery


def import_text(text: str, actor: str = "system") -> ImportReport:
    """Import subscribers from CSV text in one transaction; commit; report per-row errors."""
    report, seen, now = ImportReport(), set(), utcnow()
    existing = set(db.session.scalars(select(Subscriber.email)))
    for line, row in _rows(text):
        try:
            email, name, confirmed, delivery = _check(row)
        except SubscriptionError as exc:
            report.errors.append((line, row.get("email", "")[:254], str(exc)))
            continue
        if email in seen:
            report.errors.append((line, email, "appears twice in this file"))
            continue
        seen.add(email)
        if email in existing:
            report.skipped += 1
            continue
        db.session.add(
            Subscriber(
                email=email,
                name=name,
                delivery=delivery,
                source="import",
                created_at=now,
                status=SubscriberStatus.ACTIVE if confirmed else SubscriberStatus.PENDING,
                confirmed_at=now if confirmed else None,
                confirm_due=not confirmed,
            )
        )
        report.active += confirmed
        report.pending += not confirmed
    audit.record(
        "subscribers.imported",
        "subscriber",
        None,
        actor,
        active=report.active,
        pending=report.pending,
        errors=len(report.errors),
    )
    db.session.commit()
    return report


def _cell(value) -> str:
    """Neutralise spreadsheet formulas (CSV injection) and format dates."""
    text = value.isoformat() if hasattr(value, "isoformat") else str("" if value is None else value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_rows(subscribers: Iterable[Subscriber]) -> Iterator[str]:
    """CSV lines (header first) for the given subscribers, streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue()
    for sub in subscribers:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(getattr(sub, column)) for column in EXPORT_COLUMNS])
        yield buffer.getvalue()
