"""Refusals the task services raise, mapped to answers by the API and the pages."""

from decimal import Decimal

from django.db import connection
from django.utils.translation import gettext

from tasks.models import AMOUNT_LIMIT, CampaignStatus
from utilities.errors import Refused


class ReportError(Refused):
    """The request itself is wrong (nothing to report, a negative amount, a unit outside the subtree …)."""


class AmountTooLarge(ReportError):
    """A running total would pass what an amount column holds (``tasks.models.AMOUNT_MAX``)."""

    def __init__(self, *, unit: str, total: Decimal):
        super().__init__(
            gettext(
                "After this report the total done by %(unit)s would be %(total)s, more than the system can "
                "record (%(limit)s); nothing was recorded"
            )
            % {"unit": unit, "total": f"{total:,}", "limit": AMOUNT_LIMIT}
        )


class CampaignClosed(Refused):
    """The campaign is closed (``CampaignStatus.CLOSED``): its work, figures and supervision are frozen,
    readable but no longer written, until HQ reopens it."""

    def __init__(self, campaign):
        super().__init__(
            gettext("The campaign “%(name)s” is closed: nothing more can be recorded in it until HQ reopens it")
            % {"name": campaign.name}
        )


def refuse_closed(campaign) -> None:
    """Raise ``CampaignClosed`` when ``campaign`` is closed: the first check of every write on its work.

    On PostgreSQL, inside the writer's transaction, the campaign's row is read again ``FOR SHARE``: the
    writer then holds it until it commits, so ``close_campaign`` (``FOR UPDATE`` on the same row) waits for
    the writes in flight before computing the final figures, and a writer that comes after the closing
    waits for it and finds the campaign closed. Writers do not block one another (shared locks). SQLite
    serialises writing transactions by itself."""
    if campaign is None:
        return
    status = campaign.status
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT status FROM tasks_campaign WHERE id = %s FOR SHARE", [campaign.pk])
            row = cursor.fetchone()
        status = row[0] if row else status
    if status == CampaignStatus.CLOSED:
        raise CampaignClosed(campaign)


class LinkedTarget(ReportError):
    """An amount reported on a target linked to an indicator (``Target.indicator``): its progress is
    what the unit and its subtree report in the results statistics, never entered twice."""

    def __init__(self, target):
        super().__init__(
            gettext(
                "The target “%(target)s” takes its progress from the results statistics (%(indicator)s): "
                "report the figures there, not here; nothing was recorded"
            )
            % {"target": target.text, "indicator": target.indicator.name}
        )
