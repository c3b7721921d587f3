"""An assignment's parent and acknowledged-by are checked per statement (PostgreSQL, tasks/0025): a row
naming what does not exist fails at its statement; setting one is checked row by row; the parent
assignment and the acknowledging user cannot be deleted or re-keyed from under the rows naming them; and
the migration goes back to PostgreSQL's deferred row keys and forward again."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Unit, User
from tasks.models import Assignment
from tests.migrating import migrate

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps its row keys")
MISSING = 2_000_000_000


def _sql(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _at_commit(sql: str, params=()) -> None:
    """``sql``, then its deferred checks as its COMMIT would run them (and deferred again after)."""
    _sql(sql, params)
    _sql("SET CONSTRAINTS ALL IMMEDIATE")
    _sql("SET CONSTRAINTS ALL DEFERRED")


def _copy_of(a: Assignment, **changes) -> Assignment:
    """A new share of ``a``'s item for the unit above ``a``'s (no assignment of that item yet)."""
    values = {
        "campaign_id": a.campaign_id,
        "item_id": a.item_id,
        "unit_id": Unit.objects.get_parent(a.unit).pk,
        "role": a.role,
        "due_date": a.due_date,
    }
    return Assignment(**{**values, **changes})


@pytest.fixture
def pair(published) -> tuple[Assignment, Assignment]:
    """Two assignments of the published plan, the second passed down from the first."""
    parent, child = Assignment.objects.filter(campaign=published).order_by("pk")[:2]
    Assignment.objects.filter(pk=child.pk).update(parent=parent)
    return parent, child


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "ref"), [("parent_id", "tasks_assignment"), ("acknowledged_by_id", "accounts_user")]
)
def test_a_new_row_naming_a_missing_parent_or_user_fails_at_its_statement(published, column, ref):
    a = Assignment.objects.filter(campaign=published).select_related("unit").order_by("pk").first()
    with (
        pytest.raises(IntegrityError, match=rf"tasks_assignment\.{column} names what does not exist: {ref} {MISSING}"),
        transaction.atomic(),
    ):  # the statement, not the COMMIT, refuses
        Assignment.objects.bulk_create([_copy_of(a, **{column: MISSING})])
    assert not Assignment.objects.filter(unit=Unit.objects.get_parent(a.unit), item_id=a.item_id).exists()
    # the same row naming what exists goes in
    Assignment.objects.bulk_create([_copy_of(a, parent_id=a.pk, acknowledged_by_id=User.objects.first().pk)])


@pytest.mark.django_db
def test_setting_a_parent_or_an_acknowledging_user_is_checked_and_other_updates_are_not(pair):
    parent, child = pair
    with (
        pytest.raises(IntegrityError, match=r"tasks_assignment\.parent_id names what does not exist"),
        transaction.atomic(),
    ):
        Assignment.objects.filter(pk=child.pk).update(parent_id=MISSING)
    with (
        pytest.raises(IntegrityError, match=r"tasks_assignment\.acknowledged_by_id names what does not exist"),
        transaction.atomic(),
    ):
        Assignment.objects.filter(pk=child.pk).update(acknowledged_by_id=MISSING, acknowledged_at=timezone.now())
    assert Assignment.objects.get(pk=child.pk).parent_id == parent.pk
    Assignment.objects.filter(pk=child.pk).update(progress=1)  # no key changes: not checked
    Assignment.objects.filter(pk=child.pk).update(parent=None)  # a NULL key names nothing
    assert Assignment.objects.get(pk=child.pk).parent_id is None


@pytest.mark.django_db
def test_the_parent_and_the_acknowledging_user_cannot_go_from_under_the_rows_naming_them(pair):
    parent, child = pair
    with (
        pytest.raises(IntegrityError, match=f"tasks_assignment {parent.pk} is still named by tasks_assignment"),
        transaction.atomic(),
    ):
        _at_commit("DELETE FROM tasks_assignment WHERE id = %s", [parent.pk])
    with (
        pytest.raises(IntegrityError, match=f"tasks_assignment {parent.pk} is still named by tasks_assignment"),
        transaction.atomic(),
    ):
        _at_commit("UPDATE tasks_assignment SET id = %s WHERE id = %s", [MISSING, parent.pk])
    user = User.objects.create_user("temp", password="x")
    Assignment.objects.filter(pk=child.pk).update(acknowledged_by=user, acknowledged_at=timezone.now())
    with (
        pytest.raises(IntegrityError, match=f"accounts_user {user.pk} is still named by tasks_assignment {child.pk}"),
        transaction.atomic(),
    ):
        _at_commit("DELETE FROM accounts_user WHERE id = %s", [user.pk])
    _at_commit("UPDATE accounts_user SET last_login = now() WHERE id = %s", [user.pk])  # not a re-key
    # once nothing names them, they go
    Assignment.objects.filter(pk=child.pk).update(parent=None, acknowledged_by=None)
    _at_commit("DELETE FROM accounts_user WHERE id = %s", [user.pk])
    _at_commit("UPDATE tasks_assignment SET id = %s WHERE id = %s", [MISSING, parent.pk])


# the migration both ways


def _state() -> tuple[set[str], set[str]]:
    """The assignment's deferred row keys on the two columns, and the triggers of tasks/0025."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.condeferred AND c.conrelid = 'tasks_assignment'::regclass "
            "AND a.attname IN ('parent_id', 'acknowledged_by_id')"
        )
        keys = {name for (name,) in cursor.fetchall()}
        cursor.execute(
            "SELECT tgname || ' ON ' || tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE 'assignment_links_%%'"
        )
        triggers = {name for (name,) in cursor.fetchall()}
    return keys, triggers


@pytest.mark.django_db(transaction=True)
def test_the_migration_goes_back_to_row_keys_and_forward_again(published):
    keys, triggers = _state()
    assert keys == set()
    assert triggers == {
        "assignment_links_inserted ON tasks_assignment",
        "assignment_links_updated ON tasks_assignment",
        "assignment_links_referenced_deleted ON tasks_assignment",
        "assignment_links_referenced_updated ON tasks_assignment",
        "assignment_links_deleted ON accounts_user",
        "assignment_links_updated ON accounts_user",
    }
    try:
        migrate([("tasks", "0024_ordering_without_joins")])
        assert _state() == ({"parent_id", "acknowledged_by_id"}, set())
    finally:
        migrate(None)
    assert _state() == (keys, triggers)
    child = Assignment.objects.filter(campaign=published).order_by("pk").last()
    with pytest.raises(IntegrityError, match=r"tasks_assignment\.parent_id names"):
        Assignment.objects.filter(pk=child.pk).update(parent_id=MISSING)
