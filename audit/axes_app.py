"""django-axes (the sign-in locks) under the name HQ knows it by in the admin: INSTALLED_APPS names
this config instead of "axes". Its models' names are translated in locale/ (axes ships no Chinese)."""

from axes.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignInLocksConfig(AppConfig):
    verbose_name = _("Sign-in locks")
