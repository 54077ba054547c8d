"""Staff management: invitations by signed email link, roles, deactivation."""

from __future__ import annotations

from sqlalchemy import func, select

from service import mail
from service.core import audit, tokens
from service.core.db import count
from service.core.urls import absolute
from service.extensions import db
from service.models import Role, User
from service.models.base import parse_state
from service.staff import accounts

INVITE_PURPOSE = "staff-invite"
INVITE_DAYS = 3


class StaffError(ValueError):
    """A staff change that is not allowed; the message says why."""


def _find(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))


def invite(email: str, role: str, inviter: User) -> str:
    """Email a signed invitation link; return the normalised address."""
    if parse_state(Role, role) is None:
        raise StaffError(f"role must be one of {', '.join(Role)}")
    try:
        email = accounts.normalize_email(email)
    except accounts.AccountError as exc:
        raise StaffError(str(exc)) from None
    if _find(email):
        raise StaffError(f"{email} already has an account.")
    token = tokens.make(INVITE_PURPOSE, {"email": email, "role": role, "by": inviter.id})
    message = mail.build(
        "staff_invite",
        email,
        {
            "inviter": inviter.name or inviter.email,
            "role": role,
            "days": INVITE_DAYS,
            "accept_url": absolute("staff.accept", token=token),
        },
    )
    audit.record("user.invited", "user", None, actor=inviter.email, email=email, role=role)
    db.session.commit()
    mail.send(message)
    return email


def read_invite(token: str) -> dict:
    """The invitation in a token; raises tokens.TokenError when bad, expired or used."""
    payload = tokens.read(INVITE_PURPOSE, token, max_age=INVITE_DAYS * tokens.DAY)
    if (
        not isinstance(payload, dict)
        or parse_state(Role, payload.get("role")) is None
        or not payload.get("email")
    ):
        raise tokens.TokenError("This link is not valid.")
    if _find(payload["email"]):
        raise tokens.TokenError("This invitation has already been accepted. Please log in.")
    return payload


def accept(token: str, name: str, password: str) -> User:
    """Create the invited account (each invitation works once)."""
    payload = read_invite(token)
    try:
        user, _ = accounts.create_user(payload["email"], password, payload["role"], name.strip())
    except accounts.AccountError as exc:
        raise StaffError(str(exc)) from None
    return user


def _admins_left(excluding: User) -> int:
    return count(
        select(User.id).where(
            User.role == Role.ADMIN, User.active.is_(True), User.id != excluding.id
        )
    )


def set_role(user_id: int, role: str, actor: User) -> User:
    user, new = db.session.get(User, user_id), parse_state(Role, role)
    if user is None or new is None:
        raise StaffError("No such account or role.")
    if user.role == Role.ADMIN and new != Role.ADMIN and not _admins_left(user):
        raise StaffError("Keep at least one active admin.")
    old, user.role = user.role, new
    audit.record("user.role", "user", user.id, actor=actor.email, from_role=old, to_role=role)
    db.session.commit()
    return user


def set_active(user_id: int, active: bool, actor: User) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise StaffError("No such account.")
    if user.id == actor.id and not active:
        raise StaffError("You cannot deactivate your own account.")
    if not active and user.role == Role.ADMIN and not _admins_left(user):
        raise StaffError("Keep at least one active admin.")
    user.active = active
    audit.record(
        "user.activated" if active else "user.deactivated", "user", user.id, actor=actor.email
    )
    db.session.commit()
    return user
