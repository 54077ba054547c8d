"""Admin: the Letters inbox — readers' replies by email that are private, await the reader's
choice, or were refused (admins only: they were written to the writer)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from service.comments.email_replies import letters
from service.web.auth import role_required

bp = Blueprint("letters", __name__, url_prefix="/admin/letters")


@bp.get("")
@role_required()
def index():
    tab = request.args.get("tab", "private")
    if tab not in letters.TABS:
        abort(404)
    before = request.args.get("before", type=int)
    rows, next_cursor = letters.page(tab, before)
    return render_template(
        "admin/letters.html",
        tab=tab,
        tabs={key: label for key, (label, _) in letters.TABS.items()},
        counts=letters.counts(),
        letters=rows,
        next_cursor=next_cursor,
        first_page=before is None,
    )


@bp.post("/<int:reply_id>/read")
@role_required()
def mark_read(reply_id: int):
    letters.mark_read(reply_id, current_user.email)
    tab = request.form.get("tab", "private")
    return redirect(url_for(".index", tab=tab if tab in letters.TABS else "private"))
