"""The site's identity at run time: the admin's settings, falling back to the environment."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

from service.core import settings


def name() -> str:
    return settings.get("site.name") or current_app.config["SITE_NAME"]


def description() -> str:
    return settings.get("site.description") or current_app.config["SITE_DESCRIPTION"]


def timezone_name() -> str:
    return settings.get("site.timezone") or current_app.config["TIMEZONE"]


def timezone() -> ZoneInfo:
    try:
        return ZoneInfo(timezone_name())
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(current_app.config["TIMEZONE"])
