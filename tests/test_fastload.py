"""utilities.models.FastLoad: a row read builds the same instance as Django's own ``Model.from_db`` —
the same attributes, the same deferred columns, the related rows of ``select_related`` cached alike —
and Django's path is taken whenever a receiver listens to the model's init signals."""

from contextlib import contextmanager

import pytest
from django.db import models
from django.db.models.signals import post_init

from accounts.models import Unit, User
from stats.models import Indicator
from tasks.models import Assignment, Item
from utilities.models import FastLoad

pytestmark = pytest.mark.django_db


@contextmanager
def djangos_own(*senders):
    """Django's ``Model.__init__`` for these models: a ``post_init`` receiver makes ``FastLoad`` step aside."""
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    for sender in senders:
        post_init.connect(receiver, sender=sender, weak=False)
    try:
        yield seen
    finally:
        for sender in senders:
            post_init.disconnect(receiver, sender=sender)


def described(obj: models.Model) -> dict:
    """Everything an instance holds: its attributes but the state, the state's flags, the cached related
    rows (described the same way) and the deferred columns."""
    attrs = {k: v for k, v in vars(obj).items() if k != "_state"}
    cached = {name: described(rel) if rel is not None else None for name, rel in obj._state.fields_cache.items()}
    return {
        "class": type(obj),
        "attrs": attrs,
        "adding": obj._state.adding,
        "db": obj._state.db,
        "cached": cached,
        "deferred": obj.get_deferred_fields(),
    }


def both(qs, *senders) -> tuple[list, list]:
    fast = [described(o) for o in qs.all()]
    with djangos_own(*senders) as seen:
        own = [described(o) for o in qs.all()]
    assert len(seen) >= len(own) > 0  # Django's path was taken, row by row
    return fast, own


def test_the_hot_models_load_fast():
    for model in (Assignment, Item, Unit, User, Indicator):
        assert issubclass(model, FastLoad)
        assert model.from_db.__func__ is FastLoad.from_db.__func__


def test_a_plain_read_is_the_same_instance(published):
    fast, own = both(Assignment.objects.order_by("pk"), Assignment)
    assert fast == own
    assert all(d["adding"] is False and d["db"] == "default" and not d["deferred"] for d in fast)


# every column of the assignment, some of each related row (a list's read before ``tasks.rows``)
LEAD_LIST = (
    *(f.name for f in Assignment._meta.concrete_fields),
    *("item__code", "item__title", "item__target_value", "unit__code", "unit__name", "campaign__start"),
    *("acknowledged_by__name", "acknowledged_by__first_name"),
)


def test_the_lead_list_read_deferred_and_related_is_the_same(published):
    qs = (
        Assignment.objects.select_related("item", "unit", "campaign", "acknowledged_by").only(*LEAD_LIST).order_by("pk")
    )
    fast, own = both(qs, Assignment, Item, Unit, User)
    assert fast == own
    first = fast[0]
    assert first["deferred"] == set()  # every column of the assignment is listed
    assert first["cached"]["item"]["deferred"]  # the item's long texts are not
    assert set(first["cached"]) == {"item", "unit", "campaign", "acknowledged_by"}


def test_a_deferred_column_loads_on_reading_and_the_row_saves_as_an_update(published):
    item = Item.objects.only("code").order_by("pk").first()
    assert "title" in item.get_deferred_fields()
    assert item.title == Item.objects.values_list("title", flat=True).get(pk=item.pk)
    assignment = Assignment.objects.order_by("pk").first()
    before = Assignment.objects.count()
    assignment.extensions += 1
    assignment.save(update_fields=["extensions"])
    assert Assignment.objects.count() == before  # updated, not inserted: the row was not "adding"
    assert Assignment.objects.get(pk=assignment.pk).extensions == assignment.extensions


def test_a_foreign_key_set_after_loading_drops_the_cached_row(published):
    assignment = Assignment.objects.select_related("unit").order_by("pk").first()
    other = Unit.objects.exclude(pk=assignment.unit_id).order_by("pk").first()
    assignment.unit_id = other.pk  # through Django's descriptor, as on any instance
    assert assignment.unit == other


def test_raw_and_tree_reads_are_the_same(city):
    fast = [described(u) for u in Unit.objects.raw("SELECT * FROM accounts_unit ORDER BY path")]
    with djangos_own(Unit):
        own = [described(u) for u in Unit.objects.raw("SELECT * FROM accounts_unit ORDER BY path")]
    assert fast == own and fast
    fast, own = both(Unit.objects.filter(depth__gt=1).order_by("path"), Unit)
    assert fast == own
    fast, own = both(User.objects.only("username", "unit").order_by("pk"), User)
    assert fast == own
