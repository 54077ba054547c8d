"""The migrations build exactly the schema the models describe, and the newest goes down and up."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from service.extensions import db
from service.models import Issue
from tests.factories import make_comment, make_issue

#: Objects only the migrations create, on purpose: PostgreSQL trigram indexes for search.
MIGRATION_ONLY = {"ix_subscribers_email_trgm", "ix_subscribers_name_trgm"}


def _differences() -> list:
    def include(obj, name, type_, reflected, compare_to):
        return name not in MIGRATION_ONLY

    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include, "compare_type": False}
        )
        return compare_metadata(context, db.metadata)


def test_the_migrated_database_matches_the_models(app):
    assert _differences() == []


def _version(issue_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Issue.comments_version).where(Issue.id == issue_id))


def test_only_a_visible_comment_changes_the_cached_thread_version(app):
    issue = make_issue("Versions")
    before = _version(issue.id)
    make_comment(issue, status="pending", moderation_due=True)  # nobody else sees it
    assert _version(issue.id) == before
    make_comment(issue, status="approved")
    assert _version(issue.id) == before + 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # a private database copy
def test_the_newest_migration_goes_down_and_up_again(app):
    db.session.remove()
    downgrade(revision="-1")  # one step: the newest migration
    upgrade()
    assert _differences() == []
    issue = make_issue("Round trip")
    before = _version(issue.id)
    make_comment(issue, status="approved")
    assert _version(issue.id) == before + 1  # the thread-version trigger survived
