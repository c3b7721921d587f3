"""Delete plan uploads never imported, older than N days, with their files (audited)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from tasks.services.plan_uploads import purge_plan_uploads


class Command(BaseCommand):
    help = "Delete the plan uploads never imported (failed or left at the preview) older than --days, with their files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Default: PLAN_UPLOAD_KEEP_DAYS (30)")

    def handle(self, *args, **options) -> None:
        days = options["days"]
        if days is not None and days < 0:
            self.stderr.write("--days must be 0 or more")
            return
        deleted = purge_plan_uploads(days=days)
        self.stdout.write(f"{deleted} plan uploads deleted")
