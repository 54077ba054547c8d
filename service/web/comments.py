"""Comment HTTP: the thread on an issue page, posting, avatars."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    abort,
    after_this_request,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response as BaseResponse

from service.comments import guards, page_cache, posting, threads
from service.comments.avatars import identicon_svg
from service.comments.validation import CommentError
from service.core import tokens
from service.extensions import limiter
from service.models import CommentStatus, Issue
from service.publishing import queries
from service.publishing.queries import IssueRef

bp = Blueprint("comments", __name__)
log = logging.getLogger(__name__)
COOKIE = "margins_commenter"
COOKIE_PURPOSE = "commenter-cookie"
COOKIE_MAX_AGE = 365 * tokens.DAY
_HEX_KEY = re.compile(r"[0-9a-f]{32}")


@dataclass
class Commenter:
    """What the reader's signed cookie says: a random token, and details they asked us to keep."""

    token: str = ""
    name: str = ""
    email: str = ""
    url: str = ""

    @property
    def remembered(self) -> bool:
        return bool(self.name or self.email or self.url)


def current_commenter() -> Commenter:
    raw = request.cookies.get(COOKIE, "")
    if not raw:
        return Commenter()
    try:
        data = tokens.read(COOKIE_PURPOSE, raw, COOKIE_MAX_AGE)
    except tokens.TokenError:
        return Commenter()
    if not isinstance(data, dict):
        return Commenter()
    return Commenter(
        str(data.get("t", "")),
        str(data.get("n", "")),
        str(data.get("e", "")),
        str(data.get("u", "")),
    )


def _set_cookie(response: BaseResponse, who: Commenter) -> None:
    data = {"t": who.token}
    if who.remembered:
        data.update(n=who.name, e=who.email, u=who.url)
    response.set_cookie(
        COOKIE,
        tokens.make(COOKIE_PURPOSE, data),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )


def _private(response: BaseResponse) -> BaseResponse:
    """Pages showing a reader's own details or pending comments must never be cached."""
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Cookie")
    return response


def issue_context(issue: Issue) -> dict:
    """What issue.html needs for its comments: the thread, the form, open or closed."""
    me = current_commenter()
    is_open = posting.is_open(issue)
    entry = _thread_entry(issue, me.token, is_open)
    reply_to = entry.reply_target(request.args.get("replytocom", type=int))
    if me.remembered or entry.awaiting:
        after_this_request(_private)
    form = {"name": me.name, "email": me.email, "url": me.url, "remember": me.remembered}
    return {
        "thread": entry,
        "thread_html": entry.html,
        "reply_to": reply_to,
        "comment_form": form,
        "comments_open": is_open,
        "form_stamp": guards.form_stamp(issue.id),
        "avatar_base": _avatar_base(),
    }


def _thread_entry(issue: Issue, viewer_token: str, is_open: bool) -> page_cache.Entry:
    """The rendered thread: shared and cached, or fresh for a reader with a pending comment."""
    depth = threads.configured_depth()

    def render(token: str = "") -> page_cache.Entry:
        thread = threads.build(issue, viewer_token=token, max_depth=depth)
        html = render_template(
            "public/_thread.html", thread=thread, comments_open=is_open, avatar_base=_avatar_base()
        )
        return page_cache.Entry.of(html, thread)

    if threads.has_pending(issue.id, viewer_token):
        return render(viewer_token)  # never cached: only its author may see a pending comment
    return page_cache.cached(page_cache.thread_key(issue, is_open, depth), render)


def _avatar_base() -> str:
    """The avatar URL up to the key, built once per page rather than once per comment."""
    return url_for("comments.avatar", key="k")[: -len("k.svg")]


def _typed() -> dict:
    """What the reader typed, to show back after a refusal (nothing lost)."""
    form = request.form
    return {
        "name": form.get("author", ""),
        "email": form.get("email", ""),
        "url": form.get("url", ""),
        "body": form.get("comment", ""),
        "notify": bool(form.get("notify_replies")),
        "remember": bool(form.get("remember")),
        "parent_id": form.get("comment_parent", ""),
    }


def _parent_id() -> int | None:
    raw = request.form.get("comment_parent", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def _submission(issue: IssueRef, token: str) -> posting.Submission:
    form = request.form
    return posting.Submission(
        issue_id=issue.id,
        name=form.get("author", ""),
        email=form.get("email", ""),
        url=form.get("url", ""),
        body=form.get("comment", ""),
        parent_id=_parent_id(),
        notify_replies=bool(form.get("notify_replies")),
        author_token=token,
        ip=request.remote_addr or "",
        user_agent=request.user_agent.string or "",
        honeypot=form.get(guards.HONEYPOT_FIELD, ""),
        stamp=form.get("stamp", ""),
        is_staff=bool(current_user.is_authenticated),
    )


@bp.post("/issues/<slug>/comments")
@limiter.limit("10 per minute; 60 per hour")
def post(slug: str):
    posting.without_transaction()
    issue = queries.commentable_issue(slug)
    if issue is None:
        abort(404)
    me = current_commenter()
    token = me.token or posting.new_author_token()
    try:
        comment = posting.post(_submission(issue, token), issue)
    except CommentError as exc:
        if exc.status == 404:
            abort(404)
        return _refused(issue, exc)
    if comment.status == CommentStatus.PENDING:
        target = url_for("public.issue", slug=issue.slug) + f"#comment-{comment.id}"
        response = redirect(target, 303)
    else:  # bot-like: stored as spam for review; a calm answer, nothing to learn from
        response = Response(render_template("public/comment_received.html", issue=issue))
    remember = bool(request.form.get("remember"))
    who = Commenter(token)
    if remember:
        who = Commenter(token, comment.name, comment.email, comment.url)
    _set_cookie(response, who)
    return _private(response)


def _refused(issue: IssueRef, exc: CommentError):
    """The refusal page; the form comes back filled in only for fixable mistakes (400)."""
    typed = _typed()
    show_form = exc.status == 400
    page = render_template(
        "public/comment_refused.html",
        issue=issue,
        message=exc.message,
        errors=exc.errors,
        form={"body": typed["body"]},
        comment_form=typed if show_form else None,
        show_form=show_form,
        avatar_base=_avatar_base(),
        form_stamp=request.form.get("stamp") or guards.form_stamp(issue.id),
        code=exc.status,
    )
    return _private(Response(page, exc.status))


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    """A missing or stale CSRF token: show the form again with everything the reader typed."""
    if request.endpoint != "comments.post":
        return render_template("errors/error.html", error=error, code=400), 400
    issue = queries.commentable_issue((request.view_args or {}).get("slug", ""))
    if issue is None:
        abort(404)
    message = (
        "Your session expired before the comment was sent. Nothing is lost: please "
        "check it below and send it again."
    )
    return _refused(issue, CommentError(message, 400))


@bp.get("/avatar/<key>.svg")
def avatar(key: str):
    if not _HEX_KEY.fullmatch(key):
        abort(404)
    response = Response(identicon_svg(key), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
