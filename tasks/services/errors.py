"""Refusals the task services raise, mapped to answers by the API and the pages."""

from decimal import Decimal

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
    """Raise ``CampaignClosed`` when ``campaign`` is closed: the first check of every write on its work."""
    if campaign is not None and campaign.status == CampaignStatus.CLOSED:
        raise CampaignClosed(campaign)
