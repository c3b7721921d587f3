"""Django's ``changepassword``, followed by what the service does after a change: the change is audited
and the user's API tokens are revoked with the old password, as when it is changed in the admin."""

import getpass

from django.contrib.auth.management.commands import changepassword
from django.db import transaction

from accounts import services


class Command(changepassword.Command):
    def handle(self, *args, **options):
        with transaction.atomic(using=options["database"]):
            said = super().handle(*args, **options)
            username = options["username"] or getpass.getuser()
            user = changepassword.UserModel._default_manager.using(options["database"]).get(
                **{changepassword.UserModel.USERNAME_FIELD: username}
            )
            services.password_changed(user=user, by=None, source="command")
        return said
