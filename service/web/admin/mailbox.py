"""The local mailbox (the embedded default's outgoing mail), read by admins in the browser."""

from __future__ import annotations

import mailbox
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from flask import Blueprint, Response, abort, current_app, render_template

from service import mail
from service.web.auth import role_required

bp = Blueprint("mailbox", __name__, url_prefix="/admin/mailbox")


def _box() -> mailbox.Maildir:
    return mail.open_mailbox(current_app.config["MAILBOX_DIR"])


def _parse(box: mailbox.Maildir, key: str) -> EmailMessage:
    try:
        with box.get_file(key) as fh:
            parsed = BytesParser(policy=policy.default).parsebytes(fh.read())
    except KeyError:
        abort(404)
    assert isinstance(parsed, EmailMessage)  # policy.default parses into EmailMessage
    return parsed


@bp.get("")
@role_required("admin")
def index():
    box = _box()
    messages = []
    for key in box.keys():  # noqa: SIM118  (iterating a Mailbox yields messages)
        msg = _parse(box, key)
        messages.append(
            {
                "key": key,
                "subject": msg["Subject"],
                "to": msg["To"],
                "date": msg["Date"],
                "sort": box.get_message(key).get_date(),
            }
        )
    messages.sort(key=lambda m: m["sort"], reverse=True)
    return render_template("admin/mailbox.html", messages=messages[:500], total=len(messages))


@bp.get("/<key>")
@role_required("admin")
def message(key: str):
    msg = _parse(_box(), key)
    text = msg.get_body(preferencelist=("plain",))
    return render_template(
        "admin/mailbox_message.html",
        key=key,
        msg=msg,
        headers=list(msg.items()),
        text=text.get_content() if text else "",
        has_html=msg.get_body(preferencelist=("html",)) is not None,
    )


@bp.get("/<key>/html")
@role_required("admin")
def html(key: str):
    """The HTML part alone, in a sandbox: no scripts, no same-origin access."""
    part = _parse(_box(), key).get_body(preferencelist=("html",))
    if part is None:
        abort(404)
    response = Response(part.get_content(), mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    )
    return response
