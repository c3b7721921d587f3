"""API tokens (``rest_framework.authtoken``): one per user, valid ``API_TOKEN_TTL_HOURS`` from when it was
issued. Issuing and revoking are in ``accounts.services``; this is the rule and the check at each request."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def expires(token: Token) -> datetime:
    return token.created + timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def is_expired(token: Token, now: datetime | None = None) -> bool:
    return expires(token) <= (now or timezone.now())


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's ``Authorization: Token …``, refusing a token past its lifetime (401: ask for a new one)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if is_expired(token):
            raise AuthenticationFailed(_("The token has expired: ask for a new one."))
        return user, token
