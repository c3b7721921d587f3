"""Refusals the task services raise, mapped to answers by the API and the pages."""

from decimal import Decimal

from django.utils.translation import gettext

from tasks.models import AMOUNT_LIMIT
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
