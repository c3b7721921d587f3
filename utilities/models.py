"""Rows made into model instances without running ``Model.__init__`` (docs/cpu.md, "Rows loaded").

Django builds every row it reads through ``Model.__init__``: the ``pre_init``/``post_init`` signals
sent, then each field set through its descriptor (a foreign key's id through one that checks a cached
related object). A lead's list of 38 assignments, each with its item, unit and campaign, builds 190
instances that way: an eighth of the request's CPU. ``FastLoad.from_db`` makes the same instance as
Django's ``from_db`` — the loaded columns in ``__dict__`` under their attribute names, a deferred
column absent (so reading it loads it, as Django's own), ``_state`` not adding and of the database read
— by writing the dictionary at once. Where a receiver listens to ``pre_init`` or ``post_init`` for the
model (an ``ImageField`` does), Django's own path is taken, so nothing that relies on them changes.
``tests/test_fastload.py`` compares the two builds over plain, deferred and related reads.
"""

from __future__ import annotations

from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.dispatch.dispatcher import NO_RECEIVERS


class FastLoad:
    """First among a model's bases: its rows read from the database are built by writing their values
    (see the module)."""

    @classmethod
    def from_db(cls, db, field_names, values):
        # Django's own test of ``Signal.send``: no receiver at all, or none for this model cached — asked
        # per row, ``has_listeners`` was two calls each (a twentieth of a list's rows); it fills the cache
        maybe = (pre_init.receivers and pre_init.sender_receivers_cache.get(cls) is not NO_RECEIVERS) or (
            post_init.receivers and post_init.sender_receivers_cache.get(cls) is not NO_RECEIVERS
        )
        if maybe and (pre_init.has_listeners(cls) or post_init.has_listeners(cls)):
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        # ``field_names`` are the attribute names of ``values``, in the order read (the compiler's
        # ``init_list``), whether or not some columns were deferred
        new.__dict__.update(zip(field_names, values, strict=True))
        state = new._state = ModelState()
        state.adding = False
        state.db = db
        return new
