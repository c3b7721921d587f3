from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth import signals

        from . import security

        signals.user_logged_in.connect(security.signed_in, dispatch_uid="audit.signed_in")
        signals.user_logged_out.connect(security.signed_out, dispatch_uid="audit.signed_out")
        signals.user_login_failed.connect(security.sign_in_failed, dispatch_uid="audit.sign_in_failed")
        user_locked_out.connect(security.locked_out, dispatch_uid="audit.locked_out")
