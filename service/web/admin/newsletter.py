"""Newsletter admin: subscribers (search, filters, CSV in and out) and sends (progress, pause)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, or_, select

from service.core.counting import AtLeast, capped_count
from service.extensions import db
from service.importers import subscribers_csv
from service.models import DeliveryMode, Issue, Send, Subscriber, SubscriberStatus
from service.models.base import parse_state
from service.newsletter import ledger, sweeps
from service.web.auth import role_required

bp = Blueprint("newsletter_admin", __name__, url_prefix="/admin/newsletter")
PER_PAGE = 50


def _filtered():
    """Subscribers matching the request's q / status / delivery filters."""
    query = select(Subscriber)
    q = request.args.get("q", "").strip()
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(Subscriber.email.like(like), func.lower(Subscriber.name).like(like))
        )
    if status := parse_state(SubscriberStatus, request.args.get("status")):
        query = query.where(Subscriber.status == status)
    if mode := parse_state(DeliveryMode, request.args.get("delivery")):
        query = query.where(Subscriber.delivery == mode)
    return query


def _filters() -> dict[str, str]:
    return {k: request.args[k] for k in ("q", "status", "delivery") if request.args.get(k)}


@bp.get("/")
@role_required("admin")
def subscribers():
    query = _filtered()
    page = db.paginate(
        query.order_by(Subscriber.created_at.desc(), Subscriber.id.desc()),
        per_page=PER_PAGE,
        error_out=False,
        count=False,
    )
    page.total = capped_count(query.with_only_columns(Subscriber.id))  # fast at millions
    counts = {
        s: capped_count(select(Subscriber.id).where(Subscriber.status == s))
        for s in SubscriberStatus
    }
    return render_template(
        "newsletter_admin/subscribers.html",
        page=page,
        counts=counts,
        filters=_filters(),
        statuses=list(SubscriberStatus),
        modes=list(DeliveryMode),
        more=isinstance(page.total, AtLeast),
    )


@bp.get("/subscribers.csv")
@role_required("admin")
def export_csv():
    query = _filtered().order_by(Subscriber.id).execution_options(yield_per=500)

    def generate():
        yield from subscribers_csv.export_rows(db.session.scalars(query))

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=subscribers.csv"},
    )


@bp.route("/import", methods=["GET", "POST"])
@role_required("admin")
def import_csv():
    report = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choose a CSV file to import.", "error")
        else:
            try:
                text = upload.read().decode("utf-8-sig")
                report = subscribers_csv.import_text(text, actor=current_user.email)
            except UnicodeDecodeError:
                flash("The file is not UTF-8 text; export it as CSV (UTF-8).", "error")
            except subscribers_csv.CSVFileError as exc:
                flash(str(exc), "error")
    return render_template("newsletter_admin/import.html", report=report)


@bp.get("/sends")
@role_required("admin")
def sends():
    rows = db.session.execute(
        select(Send, Issue.title)
        .outerjoin(Issue, Issue.id == Send.issue_id)
        .order_by(sweeps.status_order(), Send.created_at.desc())
        .limit(100)
    ).all()
    return render_template(
        "newsletter_admin/sends.html",
        sends=[(send, title, ledger.progress(send.id)) for send, title in rows],
    )


def _send_or_404(send_id: int) -> Send:
    send = db.session.get(Send, send_id)
    if send is None:
        abort(404)
    return send


@bp.get("/sends/<int:send_id>")
@role_required("admin")
def send_detail(send_id: int):
    send = _send_or_404(send_id)
    issue = db.session.get(Issue, send.issue_id) if send.issue_id else None
    return render_template(
        "newsletter_admin/send.html", send=send, issue=issue, counts=ledger.progress(send.id)
    )


@bp.get("/sends/<int:send_id>.json")
@role_required("admin")
def send_json(send_id: int):
    send = _send_or_404(send_id)
    return {"status": send.status, "errors": send.error_count, **ledger.progress(send.id)}


@bp.post("/sends/<int:send_id>/pause")
@role_required("admin")
def pause(send_id: int):
    _send_or_404(send_id)
    sweeps.pause(send_id, current_user.email)
    flash("Paused. Messages already sent stay sent; resume to send the rest.", "success")
    return redirect(url_for(".send_detail", send_id=send_id))


@bp.post("/sends/<int:send_id>/resume")
@role_required("admin")
def resume(send_id: int):
    _send_or_404(send_id)
    sweeps.resume(send_id, current_user.email)
    flash("Resumed: only the messages not yet sent will go out.", "success")
    return redirect(url_for(".send_detail", send_id=send_id))
