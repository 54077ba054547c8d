"""Admin: register outgoing webhooks and read their delivery log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from service import webhooks
from service.extensions import db
from service.models import Webhook
from service.models.webhooks import EVENTS
from service.web.auth import role_required

bp = Blueprint("webhooks_admin", __name__, url_prefix="/admin/webhooks")


@bp.get("/")
@role_required()
def index():
    hooks = db.session.scalars(select(Webhook).order_by(Webhook.id)).all()
    return render_template(
        "admin/webhooks.html",
        hooks=hooks,
        events=EVENTS,
        deliveries=webhooks.recent_deliveries(),
        form={},
    )


@bp.post("/")
@role_required()
def create():
    events = request.form.getlist("events")
    try:
        hook = webhooks.register(request.form.get("url", ""), events, current_user.email)
    except webhooks.WebhookError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        hooks = db.session.scalars(select(Webhook).order_by(Webhook.id)).all()
        return render_template(
            "admin/webhooks.html",
            hooks=hooks,
            events=EVENTS,
            deliveries=webhooks.recent_deliveries(),
            form={"url": request.form.get("url", ""), "events": events},
        ), 422
    flash(f"Webhook added. Its signing secret: {hook.secret}", "success")
    return redirect(url_for("webhooks_admin.index"))


@bp.post("/<int:webhook_id>/toggle")
@role_required()
def toggle(webhook_id: int):
    hook = db.session.get(Webhook, webhook_id)
    if hook is not None:
        webhooks.set_active(webhook_id, not hook.active, current_user.email)
    return redirect(url_for("webhooks_admin.index"))


@bp.post("/<int:webhook_id>/delete")
@role_required()
def delete(webhook_id: int):
    webhooks.remove(webhook_id, current_user.email)
    flash("Webhook deleted.", "success")
    return redirect(url_for("webhooks_admin.index"))
