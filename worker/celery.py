"""Entry point for `celery -A worker.celery worker`: build the Flask app, expose its Celery app."""

from __future__ import annotations

from dotenv import load_dotenv

from service import create_app

load_dotenv()
flask_app = create_app()
celery_app = flask_app.extensions["celery"]
app = celery_app
