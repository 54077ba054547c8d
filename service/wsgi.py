"""WSGI entry point for gunicorn: `gunicorn service.wsgi:app`."""

from __future__ import annotations

from dotenv import load_dotenv

from service import create_app

load_dotenv()
app = create_app()
