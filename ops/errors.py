"""The one base class of business refusals: every app's services raise a subclass with a message
for the user; the API answers 400 and the pages show the message."""


class Refused(ValueError):
    """The request is wrong by the rules (a bad state, a bad date, a unit outside the subtree …)."""
