"""Public newsletter pages: subscribe, confirm, preferences, unsubscribe, one-click, bounces.

Every emailed link opens a page; only a POST changes anything (mail scanners prefetch links).
The RFC 8058 one-click POST and the bounce webhook are the only views exempt from CSRF: the
first is authorised by its signed, single-subscriber token, the second by a shared secret.
"""

from __future__ import annotations

import dataclasses
import hmac

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from service.core import tokens
from service.extensions import csrf, db, limiter
from service.newsletter import bounces, subscriptions
from service.newsletter.subscriptions import SubscriptionError

bp = Blueprint("subscribe", __name__)


@bp.app_context_processor
def _form_stamp():
    return {"subscribe_stamp": subscriptions.form_stamp}


@bp.get("/subscribe")
def subscribe_page():
    return render_template("public/subscribe.html")


@bp.post("/subscribe")
@limiter.limit("5 per minute; 30 per hour")
def subscribe():
    form = request.form
    email, name = form.get("email", ""), form.get("name", "")
    if subscriptions.looks_automated(form.get("stamp", ""), form.get("website", "")):
        return render_template("public/subscribe_sent.html")  # a bot learns nothing either
    try:
        subscriptions.subscribe(email, name, ip=request.remote_addr or "")
    except SubscriptionError as exc:
        return render_template("public/subscribe.html", error=str(exc), name=name), 400
    return render_template("public/subscribe_sent.html")


def _error(exc: Exception):
    return render_template("public/subscribe_error.html", message=str(exc)), 400


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    try:
        if request.method == "POST":
            sub = subscriptions.confirm(token)
            pref = tokens.make("preferences", sub.id)
            return render_template(
                "public/subscribe_confirmed.html",
                subscriber=sub,
                preferences_url=url_for(".preferences", token=pref),
            )
        sub = subscriptions.confirm_target(token)
    except SubscriptionError as exc:
        return _error(exc)
    return render_template("public/subscribe_confirm.html", subscriber=sub, token=token)


@bp.route("/subscribe/preferences/<token>", methods=["GET", "POST"])
def preferences(token: str):
    try:
        sub = subscriptions.from_token("preferences", token)
    except SubscriptionError as exc:
        return _error(exc)
    saved, error = False, None
    if request.method == "POST":
        try:
            sub = subscriptions.update_preferences(
                sub.id,
                request.form.get("delivery", ""),
                bool(request.form.get("reply_notifications")),
                request.form.get("name", ""),
                request.form.get("display_name"),
                request.form.get("reply_mode"),
            )
            saved = True
        except SubscriptionError as exc:  # the form comes back with what was typed
            db.session.rollback()
            sub, error = _typed(sub, request.form), str(exc)
    unsub = tokens.make("unsubscribe", sub.id)
    return render_template(
        "public/subscribe_preferences.html",
        subscriber=sub,
        saved=saved,
        error=error,
        token=token,
        unsubscribe_url=url_for(".unsubscribe_page", token=unsub),
    ), (400 if error else 200)


def _typed(sub: subscriptions.SubscriberView, form) -> subscriptions.SubscriberView:
    """The preferences as typed, to show the form again after a refusal."""
    return dataclasses.replace(
        sub,
        name=form.get("name", sub.name),
        delivery=form.get("delivery", sub.delivery),
        reply_notifications=bool(form.get("reply_notifications")),
        display_name=form.get("display_name", sub.display_name),
        reply_mode=form.get("reply_mode", sub.reply_mode),
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe_page(token: str):
    try:
        sub = subscriptions.from_token("unsubscribe", token)
    except SubscriptionError as exc:
        return _error(exc)
    pref_url = url_for(".preferences", token=tokens.make("preferences", sub.id))
    if request.method == "POST":
        subscriptions.unsubscribe(sub.id, via="page")
        return render_template("public/subscribe_unsubscribed.html", preferences_url=pref_url)
    return render_template(
        "public/subscribe_unsubscribe.html", subscriber=sub, token=token, preferences_url=pref_url
    )


@bp.get("/unsubscribe/<token>/one-click")
def one_click_page(token: str):
    """A GET of the one-click URL (a scanner, a curious reader) only shows the page."""
    return redirect(url_for(".unsubscribe_page", token=token))


@bp.post("/unsubscribe/<token>/one-click")
@csrf.exempt
def one_click(token: str):
    """RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, with no cookie or token."""
    try:
        sub = subscriptions.from_token("unsubscribe", token)
    except SubscriptionError:
        return "This unsubscribe link is not valid.\n", 400, {"Content-Type": "text/plain"}
    subscriptions.unsubscribe(sub.id, via="one-click")
    return "You are unsubscribed.\n", 200, {"Content-Type": "text/plain"}


@bp.post("/webhooks/bounces")
@csrf.exempt
def bounce_webhook():
    """A DSN (raw message) or a provider event (JSON {type, recipient}) for a bounce."""
    secret = current_app.config.get("BOUNCE_WEBHOOK_SECRET") or ""
    given = request.headers.get("X-Margins-Token") or request.args.get("token", "")
    if not secret:
        abort(404)
    if not hmac.compare_digest(secret.encode(), given.encode()):
        abort(403)
    if request.is_json:
        data = request.get_json(silent=True) or {}
        outcome = bounces.process_event(
            str(data.get("type", "")), str(data.get("recipient") or data.get("email") or "")
        )
    else:
        outcome = bounces.process_message(request.get_data(), request.headers.get("X-Envelope-To"))
    return {"outcome": outcome}
