"""The admin area: dashboard and the local mailbox."""

from __future__ import annotations

import mailbox
from email import policy
from email.parser import BytesParser

from flask import Blueprint, Response, abort, current_app, render_template
from markupsafe import Markup
from sqlalchemy import func, select

from .. import charts, delivery
from .. import dashboard as stats
from ..extensions import db
from ..mail import open_mailbox
from ..models import Comment, Issue, Send
from .auth import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@role_required()
def dashboard():
    counts = dict(db.session.execute(
        select(Issue.status, func.count()).group_by(Issue.status)).all())
    pending = db.session.scalar(select(func.count()).where(Comment.status == "pending"))
    labels = [f"{d:%b} {d.day}" for d in stats.week_starts(12)]
    sends = db.session.scalars(select(Send).order_by(Send.id.desc()).limit(5)).all()
    return render_template(
        "admin/dashboard.html", counts=counts, pending=pending,
        smtp=bool(current_app.config.get("SMTP_URL")),
        subscriber_chart=Markup(charts.bar_chart(
            labels, stats.subscriber_weeks(12), "Subscribers per week")),
        comment_chart=Markup(charts.bar_chart(labels, stats.comment_weeks(12),
                                              "Comments per week")),
        sends=[(send, delivery.progress(send.id)) for send in sends],
        health=stats.worker_health(),
    )


def _box() -> mailbox.Maildir:
    return open_mailbox(current_app.config["MAILBOX_DIR"])


def _parse(box: mailbox.Maildir, key: str):
    try:
        with box.get_file(key) as fh:
            return BytesParser(policy=policy.default).parse(fh)
    except KeyError:
        abort(404)


@bp.get("/mailbox")
@role_required("admin")
def mailbox_list():
    box = _box()
    messages = []
    for key in box.keys():  # noqa: SIM118  (iterating a Mailbox yields messages)
        msg = _parse(box, key)
        messages.append({"key": key, "subject": msg["Subject"], "to": msg["To"],
                         "date": msg["Date"], "sort": box.get_message(key).get_date()})
    messages.sort(key=lambda m: m["sort"], reverse=True)
    return render_template("admin/mailbox.html", messages=messages[:500], total=len(messages))


@bp.get("/mailbox/<key>")
@role_required("admin")
def mailbox_message(key: str):
    msg = _parse(_box(), key)
    text = msg.get_body(preferencelist=("plain",))
    return render_template("admin/mailbox_message.html", key=key, msg=msg,
                           headers=list(msg.items()),
                           text=text.get_content() if text else "",
                           has_html=msg.get_body(preferencelist=("html",)) is not None)


@bp.get("/mailbox/<key>/html")
@role_required("admin")
def mailbox_html(key: str):
    """The HTML part alone, in a sandbox: no scripts, no same-origin access."""
    part = _parse(_box(), key).get_body(preferencelist=("html",))
    if part is None:
        abort(404)
    response = Response(part.get_content(), mimetype="text/html")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return response
