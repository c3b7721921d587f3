"""The one answer to "what may this user see or change".

Every view, API endpoint, board, export and query that returns rows to a user starts from
``Model.objects.visible_to(user, action)`` or ``restrict()`` (or ``Scope.q()``); nothing else decides
visibility. Each scoped model declares how it reaches its unit (``scope_via``: "" for Unit, "unit",
"assignment__unit", "finding__unit", "units" …); no caller spells that path. A user's reach is the
union of the unit subtrees of their role grants, and each *action* is open to some roles only:

=========  =====================================================================
view       read anything in scope                         hq, unit_lead, inspector, leader
report     act for the unit: status, progress, answers    unit_lead
manage     headquarters work: plans, publishing, accept   hq
inspect    inspections, findings, notices, verification   inspector, hq
=========  =====================================================================

Outside the scope an object does not exist for the user (views answer 404, not 403). A hot read's
narrowing depends on the user only through its grants: ``by_grants`` builds it once per process for each
set of grants (``restricted``: ``restrict`` so built).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Aggregate, Exists, F, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Concat
from django.http import Http404
from django.utils.functional import LazyObject, empty

from .models import Role, RoleGrant, Unit

STEP = Unit.steplen


class Action(StrEnum):
    VIEW = "view"
    REPORT = "report"
    MANAGE = "manage"
    INSPECT = "inspect"


ROLES_FOR: dict[Action, frozenset[str]] = {
    Action.VIEW: frozenset({Role.HQ, Role.UNIT_LEAD, Role.INSPECTOR, Role.LEADER}),
    Action.REPORT: frozenset({Role.UNIT_LEAD}),
    Action.MANAGE: frozenset({Role.HQ}),
    Action.INSPECT: frozenset({Role.INSPECTOR, Role.HQ}),
}

# Those who answer for the results under their units, HQ running them and leaders leading them: they
# read the weekly summary of their subtrees.
OVERSEERS: frozenset[str] = frozenset({Role.HQ, Role.LEADER})


@dataclass(frozen=True)
class Scope:
    """The unit subtrees a user may act on for one action."""

    everything: bool
    paths: tuple[str, ...]  # roots of the subtrees; none is inside another

    def __bool__(self) -> bool:
        return self.everything or bool(self.paths)

    def q(self, field: str = "unit", *, with_ancestors: bool = False) -> Q:
        """A filter for rows whose ``field`` (a FK to Unit, or "" for Unit itself) is in scope.

        ``with_ancestors`` also admits the units above the scope: a campaign owned by the city
        bureau concerns a station lead even though the bureau is outside the lead's subtree.
        """
        if self.everything:
            return Q()
        prefix = f"{field}__" if field else ""
        if not self.paths:
            return Q(pk__in=[])
        q = Q()
        for path in self.paths:
            q |= Q(**{f"{prefix}path__startswith": path})
        if with_ancestors:
            above = {p[:end] for p in self.paths for end in range(STEP, len(p), STEP)}
            if above:
                q |= Q(**{f"{prefix}path__in": sorted(above)})
        return q

    def contains(self, unit: Unit | None) -> bool:
        if self.everything:
            return True
        return unit is not None and self.covers(unit.path)

    def covers(self, path: str) -> bool:
        """The unit at ``path`` (a materialised path) lies in one of the subtrees."""
        return self.everything or any(path.startswith(p) for p in self.paths)


NOTHING = Scope(everything=False, paths=())
EVERYTHING = Scope(everything=True, paths=())


def _minimal_roots(paths: set[str]) -> tuple[str, ...]:
    roots: list[str] = []
    for path in sorted(paths):  # a parent sorts before its descendants
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return tuple(roots)


def _attrs(user) -> dict:
    """Where a user's scope is kept: the user's own ``__dict__`` — for a session's ``request.user`` (a lazy
    wrapper with a dictionary of its own) the wrapped user's, where the session's backend primed it."""
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    return user.__dict__


def scope_for(user, action: Action | str) -> Scope:
    """The subtrees ``user`` may act on for ``action``; computed once per user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    action = Action(action)
    cache = _attrs(user).setdefault("_scope_cache", {})
    if "grants" not in cache:
        cache["grants"] = list(RoleGrant.objects.filter(user=user).values_list("role", "unit__path"))
    if action not in cache:
        allowed = ROLES_FOR[action]
        cache[action] = Scope(False, _minimal_roots({path for role, path in cache["grants"] if role in allowed}))
    return cache[action]


GRANT_SEP, PAIR_SEP = ";", ":"  # neither is in a role's name nor a treebeard path


class _Joined(Aggregate):
    """The rows' strings joined by ``GRANT_SEP``: PostgreSQL's ``STRING_AGG``, SQLite's ``GROUP_CONCAT``."""

    function = "STRING_AGG"
    output_field = TextField()

    def __init__(self, expression, **extra):
        super().__init__(expression, Value(GRANT_SEP), **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


def with_grants(queryset: QuerySet, user: str = "pk") -> QuerySet:
    """``queryset`` annotated with the grants of the user its rows name (``user``: the field holding the
    user's id), as one string ``prime`` reads: the request's user and its scope in ONE statement
    instead of two (the token's or the session's user, then its grants)."""
    grants = (
        RoleGrant.objects.filter(user_id=OuterRef(user))
        .values("user_id")
        .annotate(joined=_Joined(Concat(F("role"), Value(PAIR_SEP), F("unit__path"), output_field=TextField())))
        .values("joined")
    )
    return queryset.annotate(grants_joined=Subquery(grants, output_field=TextField()))


def prime(user, joined: str | None) -> None:
    """Put the grants read by ``with_grants`` where ``scope_for`` would read them, so it reads none."""
    pairs = [part.split(PAIR_SEP, 1) for part in (joined or "").split(GRANT_SEP) if part]
    _attrs(user)["_scope_cache"] = {"grants": [(role, path) for role, path in pairs]}


def of_role(user, role: str) -> Scope:
    """The subtrees of ``user``'s grants of ``role`` alone (what a leader leads, whatever else the user
    holds); read from the grants ``scope_for`` caches, so no query once the user's scope is known."""
    if not scope_for(user, Action.VIEW) or user.is_superuser:  # a superuser holds no grant
        return NOTHING
    grants = _attrs(user)["_scope_cache"]["grants"]
    return Scope(False, _minimal_roots({path for r, path in grants if r == role}))


def grant_paths(user, action: Action | str) -> tuple[str, ...]:
    """The units of ``user``'s own grants for ``action``, each as it was granted (``scope_for`` keeps only
    the outermost of nested ones): where the user sits, not all it reaches."""
    if not scope_for(user, action) or user.is_superuser:
        return ()
    allowed = ROLES_FOR[Action(action)]
    return tuple(sorted({path for role, path in _attrs(user)["_scope_cache"]["grants"] if role in allowed}))


def scopes_of_roles(users, roles) -> dict[int, tuple[Scope, int | None]]:
    """For each user, the subtrees of its grants of ``roles`` only (e.g. what a leader leads, whatever
    else it may also hold) and the unit of its first such grant; one query for all the users."""
    paths: dict[int, set[str]] = {u.pk: set() for u in users}
    first: dict[int, int] = {}
    grants = RoleGrant.objects.filter(user__in=paths, role__in=roles).order_by("pk")
    for user_id, path, unit_id in grants.values_list("user_id", "unit__path", "unit_id"):
        paths[user_id].add(path)
        first.setdefault(user_id, unit_id)
    return {uid: (Scope(False, _minimal_roots(found)), first.get(uid)) for uid, found in paths.items()}


def forget(user) -> None:
    """Drop the cached scope, e.g. after the user's grants change."""
    _attrs(user).pop("_scope_cache", None)


def path_to_unit(model) -> str:
    """How rows of ``model`` reach the unit that scopes them, as the model declares it (``scope_via``)."""
    try:
        return model.scope_via
    except AttributeError:
        raise ImproperlyConfigured(f"{model.__name__} declares no scope_via: how its rows reach their unit") from None


def _rows_in(model, via: str, scope: Scope, *, with_ancestors: bool = False) -> Q | Exists:
    """The condition on ``model``'s rows whose unit, reached through ``via``, is in ``scope``.

    A path that starts with a many-to-many relation (an inspection's ``units``) is an EXISTS over the
    link rows: a row is in scope when one of its units is, and is not repeated for each of them.
    """
    first, _, rest = via.partition("__")
    field = model._meta.get_field(first) if first else None
    if field is None or not field.many_to_many or field.auto_created:
        return scope.q(via, with_ancestors=with_ancestors)
    link = field.remote_field.through.objects.filter(
        scope.q("__".join(filter(None, [field.m2m_reverse_field_name(), rest])), with_ancestors=with_ancestors),
        **{field.m2m_field_name(): OuterRef("pk")},
    )
    return Exists(link)


def restrict(qs: QuerySet, user, action: Action | str = Action.VIEW, *, via: str | None = None) -> QuerySet:
    """``qs`` narrowed to rows whose unit is in the user's scope for ``action``.

    The unit is reached through the model's declared ``scope_via``; a model that is ``scope_seen_from_below``
    (a campaign concerns every unit under its owner) is also seen, for viewing only, by the units under
    it. ``via`` names another path instead: an admin that scopes a row by what it is about.
    """
    scope = scope_for(user, action)
    if not scope:
        return qs.none()
    from_below = False
    if via is None:
        via = path_to_unit(qs.model)
        from_below = Action(action) is Action.VIEW and getattr(qs.model, "scope_seen_from_below", False)
    qs = qs.filter(_rows_in(qs.model, via, scope, with_ancestors=from_below))
    secret = _secret_rows(qs.model, user, action, scope)
    return qs if secret is None else qs.filter(secret)


BUILT: dict[tuple, QuerySet] = {}
BUILT_LIMIT = 4096  # restricted reads kept per process: past it, forgotten and built again as met


def _grants_key(user) -> tuple | None:
    """What ``restrict`` builds a user's narrowing from, as a key: the user's grants (its scope, its own
    grant units, its HQ scope all come from them), or the superuser's everything; None for a user who sees
    nothing (not kept: ``restrict`` gives ``none()``)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return ("*",)
    scope_for(user, Action.VIEW)  # the grants read (or primed by the token's read) and kept on the user
    return tuple(sorted(_attrs(user)["_scope_cache"]["grants"]))


def by_grants(build, user, *args) -> QuerySet:
    """``build(user, *args)``, built once per process for each ``build`` (a module-level function whose
    queryset depends on the user only through its grants: its scope), arguments and set of grants, then
    copied per request as any queryset is chained (docs/cpu.md, "Narrowings built once"). Django builds a
    filter's conditions anew on every call — the scope's subtrees and the secret items' OR, ≈ 700
    function calls of every scoped API read — where a station's users all hold the same grants. The kept
    queryset is never evaluated, only copied (``all()``), so its rows are never shared."""
    grants = _grants_key(user)
    if grants is None:
        return build(user, *args)
    key = (build, args, grants)
    found = BUILT.get(key)
    if found is None:
        if len(BUILT) >= BUILT_LIMIT:
            BUILT.clear()
        found = BUILT[key] = build(user, *args)
    return found.all()


def restricted(make, user, action: Action | str = Action.VIEW) -> QuerySet:
    """``restrict(make(), user, action)`` built once per set of grants (``by_grants``); ``make`` a
    module-level function returning the same unevaluated queryset every call."""
    return by_grants(_restricted, user, make, Action(action))


def _restricted(user, make, action: Action) -> QuerySet:
    return restrict(make(), user, action)


def _secret_rows(model, user, action: Action | str, scope: Scope) -> Q | None:
    """For a model that declares ``scope_secret`` (the path to the item a row belongs to): the rows of a
    secret item (a secret directive's work, ``docs/directives.md``) only where ``user`` holds a grant for
    ``action`` on the row's unit itself — not above it — or is HQ over the campaign's owner. One more
    condition in the same query; None for other models and for a superuser."""
    path = getattr(model, "scope_secret", None)
    if path is None or scope.everything:
        return None
    rows = Q(**{f"{path}__secret": False})
    if own := grant_paths(user, action):
        rows |= Q(**{f"{path_to_unit(model)}__path__in": own})
    if hq := scope_for(user, Action.MANAGE):
        rows |= hq.q(f"{path}__campaign__owner")
    return rows


def units(user, action: Action | str = Action.VIEW) -> QuerySet[Unit]:
    return restricted(_units, user, action)  # built once per set of grants


def _units() -> QuerySet[Unit]:
    return Unit.objects.all()


def units_by_code(user, action: Action | str, codes: list[str]) -> tuple[dict[str, Unit], list[str]]:
    """The units named by ``codes`` that ``user`` may act on for ``action`` (by code, one query), and
    the codes asked for that are missing or out of that scope, in the order asked: the caller refuses
    those with its own words, which say nothing of which it was."""
    found = {u.code: u for u in units(user, action).filter(code__in=codes)}
    return found, [c for c in codes if c not in found]


def children(user, unit: Unit, action: Action | str = Action.VIEW) -> QuerySet[Unit]:
    """The units directly under ``unit`` that the user may act on (a board's columns), by path."""
    below = Unit.objects.filter(depth=unit.depth + 1, path__startswith=unit.path)
    return below.visible_to(user, action).order_by("path")


def can(user, action: Action | str, unit: Unit | None) -> bool:
    return scope_for(user, action).contains(unit)


def judges(user, action: Action | str, unit: Unit | None) -> bool:
    """``user`` may judge ``unit``'s work with ``action`` (accept it, verify its rectification): the right
    over the unit, and never someone who may report for the unit itself, whatever else they hold — no one
    judges their own work. (A superuser holds no grant and judges everywhere.)"""
    own = scope_for(user, Action.REPORT)
    if own.contains(unit) and not own.everything:
        return False
    return can(user, action, unit)


def get_or_404(qs: QuerySet, user, action: Action | str = Action.VIEW, *, via: str | None = None, **lookup):
    """Fetch one object the user may act on (through its model's ``scope_via``, as ``restrict``), or 404
    whether it is missing or out of scope."""
    try:
        return restrict(qs, user, action, via=via).get(**lookup)
    except qs.model.DoesNotExist:
        raise Http404 from None
