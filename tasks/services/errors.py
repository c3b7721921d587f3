"""Refusals the task services raise, mapped to answers by the API and the pages."""

from ops.errors import Refused


class ReportError(Refused):
    """The request itself is wrong (nothing to report, a negative amount, a unit outside the subtree …)."""
