"""Check the board rollup (``boards.BoardCount``) and its ledger (``BoardDelta``, summed over every day) against
the assignments; ``--fix`` rewrites the rollup and settles the ledger with a change dated today."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from boards import rollup
from tasks.models import Campaign

SHOWN = 20


class Command(BaseCommand):
    help = (
        "Recompute the board rollup from the assignments and report every count that differs (exit code 1); "
        "--fix rewrites the rollup of the campaigns that differ."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", help="A campaign's code (default: every campaign)")
        parser.add_argument("--fix", action="store_true", help="Rewrite the rollup of the campaigns that differ")

    def handle(self, *args, **options) -> None:
        campaign = None
        if options["campaign"]:
            campaign = Campaign.objects.filter(code=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"No campaign {options['campaign']!r}")
        found = rollup.differences(campaign)
        ledger = rollup.ledger_differences(campaign)
        if not found and not ledger:
            self.stdout.write("The board rollup matches the assignments, and so does its ledger.")
            return
        if found:
            self.stdout.write(f"{len(found)} counts differ (campaign, unit, action, due date):")
            for key, have, want in found[:SHOWN]:
                self.stdout.write(f"  {key}: rollup {have}, assignments {want}")
            if len(found) > SHOWN:
                self.stdout.write(f"  … and {len(found) - SHOWN} more")
        if ledger:
            self.stdout.write(f"{len(ledger)} sums of the ledger differ (campaign, unit, action, due date):")
            for key, have, want in ledger[:SHOWN]:
                self.stdout.write(f"  {key}: ledger {have}, assignments {want}")
            if len(ledger) > SHOWN:
                self.stdout.write(f"  … and {len(ledger) - SHOWN} more")
        if not options["fix"]:
            raise CommandError("The board rollup differs from the assignments; run with --fix to rewrite it.")
        campaigns = sorted({key[0] for key, _, _ in found})
        for pk in campaigns:
            rollup.refresh(campaign=pk)
        settled = rollup.settle_ledger(campaign) if ledger else 0
        left = rollup.differences(campaign) or rollup.ledger_differences(campaign)
        if left:  # written meanwhile, or the triggers are missing
            raise CommandError(f"{len(left)} counts still differ after the fix.")
        self.stdout.write(
            f"Fixed: the rollup of {len(campaigns)} campaign(s) rewritten from the assignments; "
            f"{settled} sums of the ledger settled by a change dated today."
        )
