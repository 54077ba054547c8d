"""What commenters reach from emailed links and the "your data" page: consent to reply
notifications, stopping them (RFC 8058 one-click), and exporting or deleting their comments."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from service.comments import data_requests, reply_consent
from service.core import tokens
from service.core.addresses import has_control
from service.extensions import csrf, limiter

bp = Blueprint("commenter", __name__)


def _message(title: str, text: str, code: int = 200, **extra):
    return render_template("public/comment_message.html", title=title, text=text, **extra), code


@bp.route("/comments/replies/confirm/<token>", methods=["GET", "POST"])
def reply_confirm(token: str):
    if request.method == "GET":
        return _message(
            "Email me replies",
            "Confirm that you want an email when someone replies to your comments.",
            action="Yes, email me replies",
        )
    try:
        reply_consent.confirm(token)
    except tokens.TokenError as exc:
        return _message("That link did not work", str(exc), 400)
    return _message(
        "Reply notifications confirmed",
        "You will get an email when someone replies to your comments. Every "
        "email has a link to stop them.",
    )


@bp.route("/comments/replies/stop/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: the signed token, scoped to one address, is the proof
def reply_stop(token: str):
    if request.method == "GET":
        return _message(
            "Stop reply emails",
            "Stop all emails about replies to your comments?",
            action="Stop reply emails",
        )
    try:
        reply_consent.stop(token)
    except tokens.TokenError as exc:
        return _message("That link did not work", str(exc), 400)
    return _message("Reply emails stopped", "You will get no more emails about replies.")


@bp.route("/comments/your-data", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def data_request():
    if request.method == "GET":
        return render_template("public/comment_data_request.html")
    action = request.form.get("action", "export")
    email = request.form.get("email", "").strip()
    if action not in data_requests.ACTIONS or not email or len(email) > 100 or has_control(email):
        return render_template(
            "public/comment_data_request.html",
            error="Please enter the email address you commented with.",
        ), 400
    data_requests.request(email, action)  # a task sends it: the same answer for every address
    return _message(
        "Check your inbox",
        "If there are comments from that address, we have "
        "sent it a link. The link works for two days.",
    )


@bp.route("/comments/your-data/<token>", methods=["GET", "POST"])
def data_confirm(token: str):
    try:
        key, action = data_requests.read_link(token)
    except tokens.TokenError as exc:
        return _message("That link did not work", str(exc), 400)
    if request.method == "GET":
        return render_template(
            "public/comment_data_confirm.html", action=action, count=data_requests.count(key)
        )
    if action == "export":
        body = json.dumps(data_requests.export(key), indent=2, ensure_ascii=False)
        return Response(
            body,
            mimetype="application/json",
            headers={
                "Content-Disposition": 'attachment; filename="my-comments.json"',
                "Cache-Control": "private, no-store",
            },
        )
    removed = data_requests.delete_all(key)
    return _message(
        "Your comments are deleted", f"{removed} comment{'s' if removed != 1 else ''} deleted."
    )
