"""Entry point for `celery -A worker.celery worker|beat`: the Flask app and its Celery app, with
the tasks, schedule and moderation feed added."""

from __future__ import annotations

from dotenv import load_dotenv

import worker
from service import create_app

load_dotenv()
flask_app = create_app()
celery_app = worker.configure(flask_app.extensions["celery"])
app = celery_app
