"""The admin dashboard: issues, subscribers and comments per week, the last sends, worker health."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from markupsafe import Markup
from sqlalchemy import func, select

from service.extensions import db
from service.models import Comment, CommentStatus, Issue, Send
from service.newsletter import ledger
from service.staff import charts
from service.staff import dashboard as stats
from service.web.auth import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@role_required()
def dashboard():
    counts = dict(
        db.session.execute(select(Issue.status, func.count()).group_by(Issue.status)).all()
    )
    pending = db.session.scalar(select(func.count()).where(Comment.status == CommentStatus.PENDING))
    labels = [f"{d:%b} {d.day}" for d in stats.week_starts(12)]
    sends = db.session.scalars(select(Send).order_by(Send.id.desc()).limit(5)).all()
    return render_template(
        "admin/dashboard.html",
        counts=counts,
        pending=pending,
        smtp=bool(current_app.config.get("SMTP_URL")),
        subscriber_chart=Markup(
            charts.bar_chart(labels, stats.subscriber_weeks(12), "Subscribers per week")
        ),
        comment_chart=Markup(
            charts.bar_chart(labels, stats.comment_weeks(12), "Comments per week")
        ),
        sends=[(send, ledger.progress(send.id)) for send in sends],
        health=stats.worker_health(),
    )
