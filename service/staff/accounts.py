"""Staff accounts: creation, password hashing (argon2id), authentication."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from service.core import addresses, audit
from service.core.addresses import AddressError
from service.extensions import db
from service.models import User
from service.models.base import parse_state, utcnow
from service.models.users import Role

_hasher = PasswordHasher()


class AccountError(ValueError):
    """A bad account request; the message says why."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalize_email(email: str) -> str:
    try:
        return addresses.normalize_email(email)
    except AddressError as exc:
        raise AccountError(str(exc)) from None


def create_user(
    email: str, password: str | None = None, role: str = Role.ADMIN, name: str = ""
) -> tuple[User, str]:
    """Create a staff account; return it and its password (generated when not given)."""
    if parse_state(Role, role) is None:
        raise AccountError(f"role must be one of {', '.join(Role)}")
    email = normalize_email(email)
    if db.session.scalar(select(User).where(func.lower(User.email) == email)):
        raise AccountError(f"an account for {email} already exists")
    password = password or secrets.token_urlsafe(12)
    if len(password) < 10:
        raise AccountError("passwords need at least 10 characters")
    user = User(
        email=email,
        name=name or email.split("@")[0],
        role=role,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", "user", user.id, role=role)
    db.session.commit()
    return user, password


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    if "\x00" in email:  # no address has one, and PostgreSQL refuses NUL in text
        email = ""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    if not user.active or not check_password(user, password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def has_admin() -> bool:
    return db.session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1)) is not None
