"""Absolute URLs under SITE_URL, the same in a request, a worker task or the CLI."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def absolute(endpoint: str, **values) -> str:
    """Build the public URL of `endpoint` from SITE_URL (never from the request's Host)."""
    site = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(
        site.netloc, script_name=site.path or "/", url_scheme=site.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)
