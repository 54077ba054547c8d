"""Every state machine is a StrEnum in models/ with a CHECK constraint in the database."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import Enum, inspect, update
from sqlalchemy.exc import IntegrityError, StatementError

from service.extensions import db
from service.models import Comment, CommentStatus, Delivery, Issue, Send, Subscriber
from tests.factories import make_comment, make_issue

STATE_COLUMNS = sorted(
    (table.name, column.name)
    for table in db.metadata.sorted_tables
    for column in table.columns
    if isinstance(column.type, Enum)
)


def test_the_state_machines_named_by_the_design_are_all_enums():
    names = set(STATE_COLUMNS)
    for table, column in [
        ("comments", "status"),
        ("subscribers", "status"),
        ("sends", "status"),
        ("deliveries", "status"),
        ("issues", "status"),
        ("webhook_deliveries", "status"),
    ]:
        assert (table, column) in names


def test_every_state_column_has_its_check_constraint_in_the_database(app):
    inspector = inspect(db.engine)
    for table, column in STATE_COLUMNS:
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table)}
        assert f"ck_{table}_{column}" in checks, (table, column, sorted(checks))


def test_a_typo_in_a_state_is_refused_before_it_reaches_the_database(app):
    comment = make_comment(make_issue(), status="pending")
    with pytest.raises(StatementError, match="not among the defined enum values"):
        db.session.execute(update(Comment).where(Comment.id == comment.id).values(status="aproved"))
    db.session.rollback()
    with pytest.raises(StatementError):
        db.session.execute(update(Send).where(Send.status == "runing").values(status="paused"))


@pytest.mark.parametrize(
    "table, column",
    [
        ("comments", "status"),
        ("subscribers", "status"),
        ("issues", "status"),
        ("deliveries", "status"),
    ],
)
def test_the_database_itself_refuses_a_value_outside_the_states(app, table, column):
    make_comment(make_issue(), status="approved")
    db.session.add(Subscriber(email="s@example.org"))
    db.session.commit()
    if table == "deliveries":
        send = Send(kind="issue", key="x")
        db.session.add(send)
        db.session.flush()
        sub = db.session.query(Subscriber).one()
        db.session.add(Delivery(send_id=send.id, subscriber_id=sub.id, kind="issue", key="x"))
        db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(db.text(f"UPDATE {table} SET {column} = 'nonsense'"))
        db.session.commit()
    db.session.rollback()


def test_states_read_back_as_members_and_compare_as_strings(app):
    issue = make_issue()
    comment = make_comment(issue, status="approved")
    db.session.expire_all()
    fresh = db.session.get(Comment, comment.id)
    assert fresh.status is CommentStatus.APPROVED and fresh.status == "approved"
    assert db.session.get(Issue, issue.id).status == "published"


STATE_ATTRIBUTES = {name for _, name in STATE_COLUMNS} - {"kind"}
#: `kind` is also a common name for other things (an HTML token's kind): only rows and models
KIND_OWNERS = {"Comment", "Send", "Delivery", "comment", "send", "reply", "parent"}
SERVICE = Path(__file__).resolve().parent.parent / "service"


def _is_state(node: ast.AST) -> bool:
    if not isinstance(node, ast.Attribute):
        return False
    if node.attr == "kind":
        return isinstance(node.value, ast.Name) and node.value.id in KIND_OWNERS
    return node.attr in STATE_ATTRIBUTES


def _is_text(node: ast.AST) -> bool:
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return any(isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items)


def _names_a_state_by_text(node: ast.AST) -> bool:
    """A state attribute meeting a string literal: compared, assigned, passed, or in in_()."""
    if isinstance(node, ast.Compare):
        sides = [node.left, *node.comparators]
        return any(map(_is_state, sides)) and any(map(_is_text, sides))
    if isinstance(node, ast.keyword):
        return node.arg in STATE_ATTRIBUTES and _is_text(node.value)
    if isinstance(node, ast.Assign):
        return any(map(_is_state, node.targets)) and _is_text(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return (
            node.func.attr == "in_" and _is_state(node.func.value) and any(map(_is_text, node.args))
        )
    return False


def _literal_states(tree: ast.AST) -> list[int]:
    """Lines that name a state by a string literal instead of an enum member."""
    return sorted(node.lineno for node in ast.walk(tree) if _names_a_state_by_text(node))


def test_domain_code_names_states_by_their_enum_members_never_by_string_literals():
    offenders = []
    for path in sorted(SERVICE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line in _literal_states(ast.parse(path.read_text(), str(path))):
            offenders.append(f"{path.relative_to(SERVICE.parent)}:{line}")
    assert offenders == []


def test_the_literal_check_finds_a_literal_state():
    assert _literal_states(ast.parse('x = Comment.status == "approved"\nrow.status = "sent"')) == [
        1,
        2,
    ]
