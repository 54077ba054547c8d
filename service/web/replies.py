"""Replies by email, on the web: the reader's publish-or-private and withdraw pages, and the
webhook for mail providers that POST incoming mail.

The reader's links open a page; only its button acts (mail scanners open links). The webhook
is exempt from CSRF and authorised by a shared secret (REPLY_WEBHOOK_SECRET), in the
X-Margins-Token header or, for providers that can only be given a URL, a `token` parameter.
"""

from __future__ import annotations

import hmac
import json

from flask import Blueprint, abort, current_app, render_template, request

from service.comments.email_replies import choices, receiving
from service.comments.email_replies.choices import ReplyLinkError
from service.extensions import csrf

bp = Blueprint("replies", __name__)


def _link_error(exc: Exception):
    return render_template("public/reply_link_error.html", message=str(exc)), 400


@bp.route("/replies/choose/<token>", methods=["GET", "POST"])
def choose(token: str):
    try:
        if request.method == "POST":
            reply = choices.choose(token, request.form.get("choice", ""))
            return render_template("public/reply_chosen.html", reply=reply)
        reply = choices.choice_target(token)
    except ReplyLinkError as exc:
        return _link_error(exc)
    return render_template("public/reply_choose.html", reply=reply, token=token)


@bp.route("/replies/withdraw/<token>", methods=["GET", "POST"])
def withdraw(token: str):
    try:
        if request.method == "POST":
            reply = choices.withdraw(token)
            return render_template("public/reply_withdrawn.html", reply=reply)
        reply = choices.withdraw_target(token)
    except ReplyLinkError as exc:
        return _link_error(exc)
    return render_template("public/reply_withdraw.html", reply=reply, token=token)


def _raw_and_envelope() -> tuple[bytes, list[str]]:
    """The raw message and its envelope recipients, as each kind of provider sends them."""
    if request.is_json:  # Postmark, with "Include raw email content" on
        data = request.get_json(silent=True) or {}
        raw = str(data.get("RawEmail") or "").encode()
        return raw, [str(data["OriginalRecipient"])] if data.get("OriginalRecipient") else []
    form = request.form
    if "body-mime" in form:  # Mailgun, a route forwarding to a URL ending in "mime"
        return form["body-mime"].encode(), [form["recipient"]] if form.get("recipient") else []
    if "email" in form:  # SendGrid Inbound Parse with "POST the raw, full MIME message"
        try:
            envelope = json.loads(form.get("envelope") or "{}").get("to") or []
        except (ValueError, AttributeError):
            envelope = []
        return form["email"].encode(), [str(to) for to in envelope]
    given = request.headers.get("X-Envelope-To", "")  # the raw message as the body
    return request.get_data(), [given] if given else []


@bp.post("/webhooks/replies")
@bp.post("/webhooks/replies/mime")
@csrf.exempt
def reply_webhook():
    """One incoming message from a mail provider; 200 once stored (or dropped on purpose)."""
    secret = current_app.config.get("REPLY_WEBHOOK_SECRET") or ""
    if not secret:
        abort(404)
    given = request.headers.get("X-Margins-Token") or request.args.get("token", "")
    if not hmac.compare_digest(secret.encode(), given.encode()):
        abort(403)
    raw, envelope = _raw_and_envelope()
    if not raw.strip():
        return {"error": "no message in the request"}, 400
    return {"outcome": str(receiving.receive(raw, envelope))}
