"""The one-click links in moderators' emails: a GET shows what the link would do, only a POST
acts (mail scanners open links), and only on a comment still pending."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from service.core import tokens
from service.extensions import db
from service.models import Comment, Issue, User
from service.moderation import actions, notices

bp = Blueprint("moderate_links", __name__, url_prefix="/moderate/link")


def _link_target(action: str, token: str) -> tuple[Comment, User]:
    """The comment and moderator of a valid one-click link, or an error page."""
    try:
        comment_id, user_id = notices.read_link(action, token)
    except tokens.TokenError as exc:
        abort(400, description=str(exc))
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        abort(403, description="This link belongs to an account that is no longer active.")
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        abort(404, description="That comment no longer exists.")
    return comment, user


@bp.route("/<action>/<token>", methods=["GET", "POST"])
def confirm(action: str, token: str):
    comment, user = _link_target(action, token)
    issue = db.session.get(Issue, comment.issue_id)
    if request.method == "GET":  # a GET never changes anything (mail scanners open links)
        page = render_template(
            "moderate/confirm.html",
            comment=comment,
            issue=issue,
            action=action,
            done=False,
            decided_by=actions.decided_by(comment.id),
        )
    else:  # acts only on a comment still pending: never overrides someone else's decision
        changed = actions.act(action, [comment.id], f"{user.email} (email link)", only_pending=True)
        page = render_template(
            "moderate/confirm.html",
            comment=db.session.get(Comment, comment.id),
            issue=issue,
            action=action,
            done=True,
            changed=bool(changed),
            decided_by=actions.decided_by(comment.id),
        )
    return page


@bp.after_request
def _no_store(response: BaseResponse) -> BaseResponse:
    """One-click link pages (errors included) name a moderator's token: never cache them."""
    response.headers["Cache-Control"] = "private, no-store"
    return response
