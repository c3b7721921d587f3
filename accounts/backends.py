"""The session's user read with its grants in one statement (docs/cpu.md, "Statements written once").

Django's ``ModelBackend.get_user`` reads the session's user by id on every request a signed-in person
makes; the first scope check then reads the user's grants apart. ``ScopedModelBackend`` is
``ModelBackend`` with that read written once per process (``utilities.statements``): the user's every
column and its grants (``scope.with_grants``, primed by ``scope.prime``) in one statement, as the API's
token reads them (``accounts.tokens``). Signing in (``authenticate``) is ``ModelBackend``'s own.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db import DEFAULT_DB_ALIAS

from accounts import scope
from accounts.models import User
from accounts.tokens import user_columns
from utilities.statements import INT_MARKER, Statement


def _session_user(marker: int):
    """The user of that id, every column, and the user's grants: one row."""
    return scope.with_grants(User.objects.filter(pk=marker)).values_list(*user_columns(), "grants_joined")


SESSION_USER = Statement(_session_user, marker=INT_MARKER)


class ScopedModelBackend(ModelBackend):
    """``ModelBackend``, the session's user read with its grants in one statement (see the module)."""

    def get_user(self, user_id):
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        if not 0 < pk < 2**63:  # no row has it (and PostgreSQL would refuse the number)
            return None
        found = SESSION_USER.rows(pk)
        if not found:
            return None
        *columns, grants = found[0]
        user = User.from_db(DEFAULT_DB_ALIAS, user_columns(), columns)
        if not self.user_can_authenticate(user):
            return None
        scope.prime(user, grants)
        return user
