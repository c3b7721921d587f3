from django.utils.functional import SimpleLazyObject

from accounts import scope
from accounts.scope import Action
from boards.leader import may_open
from notifications.inbox import unread


def navigation(request):
    """What the page header offers the signed-in user (computed lazily, once per request)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_report": bool(scope.scope_for(user, Action.REPORT)),
        "nav_manage": bool(scope.scope_for(user, Action.MANAGE)),
        "nav_inspect": bool(scope.scope_for(user, Action.INSPECT)),
        "nav_leader": may_open(user),
        "nav_unread": SimpleLazyObject(lambda: unread(user).count()),
    }
