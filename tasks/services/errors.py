"""Refusals the task services raise, mapped to answers by the API and the pages."""


class ReportError(ValueError):
    """The request itself is wrong (nothing to report, a negative amount, a unit outside the subtree …)."""
