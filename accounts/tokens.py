"""API tokens (``rest_framework.authtoken``): one per user, valid ``API_TOKEN_TTL_HOURS`` from when it was
issued. Issuing and revoking are in ``accounts.services``; this is the rule and the check at each request."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from accounts import scope
from accounts.models import User
from utilities.statements import Statement


def expires(token: Token) -> datetime:
    return token.created + timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def is_expired(token: Token, now: datetime | None = None) -> bool:
    return expires(token) <= (now or timezone.now())


@cache
def user_columns() -> tuple[str, ...]:
    return tuple(f.attname for f in User._meta.concrete_fields)


def _token_user(marker: str):
    """The token named, its user's every column and the user's grants (``scope.with_grants``): one row."""
    users = scope.with_grants(User.objects.filter(auth_token__key=marker))
    return users.values_list(*user_columns(), "auth_token__created", "grants_joined")


TOKEN_USER = Statement(_token_user)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's ``Authorization: Token …``, refusing a token past its lifetime (401: ask for a new one), with
    DRF's answers for an unknown token or an inactive user. The token, its user and the user's grants
    are read in one statement written once per process (``utilities.statements``): every scoped request
    needs the grants, and the ORM's writing of the two reads cost more than all else of a small request."""

    def authenticate_credentials(self, key):
        found = TOKEN_USER.rows(key)
        if not found:
            raise AuthenticationFailed(_("Invalid token."))
        *columns, created, grants = found[0]
        user = User.from_db(DEFAULT_DB_ALIAS, user_columns(), columns)
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        token = Token.from_db(DEFAULT_DB_ALIAS, ["key", "user_id", "created"], [key, user.pk, created])
        token.user = user
        if is_expired(token):
            raise AuthenticationFailed(_("The token has expired: ask for a new one."))
        scope.prime(user, grants)
        return user, token
