"""Staff accounts: admins and moderators."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, UTCDateTime, state_check, state_type, utcnow


class Role(StrEnum):
    """Admins may do everything; moderators work the comment queue."""

    ADMIN = "admin"
    MODERATOR = "moderator"


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (state_check("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[Role] = mapped_column(state_type(Role), default=Role.MODERATOR)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses deactivated accounts
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN
