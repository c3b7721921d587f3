"""The checklist pages: a campaign's items, one item across its units, and HQ's change of an item.

Every page reads through ``accounts.scope`` (out of scope is a 404) and every form posts to a view
that calls one service from ``tasks.services``; a refusal is shown on the page with what was typed
kept, never a 500.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import scope
from accounts.scope import Action
from tasks import targets
from tasks.checklist import checklist_response
from tasks.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Item,
    ResponsibilityScope,
)
from tasks.queries import campaigns_for, overdue_q, progress_counts
from tasks.services.items import update_item
from utilities.errors import Refused

from .. import labels
from ..forms import (
    ChecklistQuery,
    ItemEditForm,
)
from ..pages import PAGE_SIZE, submit

S = AssignmentStatus
RECEIPT = {"yes": False, "no": True}  # ?receipt= → acknowledged_at__isnull


def _assignments():
    return Assignment.objects.select_related("item", "item__action", "campaign", "unit", "acknowledged_by")


def _campaign_choice(request: HttpRequest):
    campaigns = list(campaigns_for(request.user).exclude(status="draft"))
    wanted = request.GET.get("campaign")
    chosen = next((c for c in campaigns if str(c.pk) == wanted), campaigns[0] if campaigns else None)
    return campaigns, chosen


@login_required
def items(request: HttpRequest) -> HttpResponse:
    """The checklist of a campaign with each item's completion over the units the user can see."""
    campaigns, campaign = _campaign_choice(request)
    rows, totals = [], {}
    if campaign:
        counts = progress_counts(scope.restrict(campaign.assignments.all(), request.user), by="item_id")
        totals = progress_counts(scope.restrict(campaign.assignments.all(), request.user))
        empty = dict.fromkeys(["total", "accepted", "submitted", "returned", "overdue"], 0)
        for item in campaign.items.in_plan().filter(is_active=True).select_related("action").order_by("seq"):
            item.counts = counts.get(item.pk, empty)
            item.percent = labels.percent(item.counts["accepted"], item.counts["total"])
            rows.append(item)
    return render(
        request, "tasks/items.html", {"campaigns": campaigns, "campaign": campaign, "rows": rows, "totals": totals}
    )


@login_required
def items_export(request: HttpRequest) -> HttpResponse:
    """The campaign's checklist as the office files it (``format=xlsx|docx``), with ``progress=1`` each
    item's completion and overdue units over the user's scope. Anyone who sees the campaign may have
    it (a draft: HQ managing it only); otherwise, or with no well-formed campaign, a 404."""
    query = ChecklistQuery.parsed(request.GET)
    wanted = query.get("campaign")
    campaign = campaigns_for(request.user).select_related("owner").filter(pk=wanted).first() if wanted else None
    if campaign is None:
        raise Http404
    kind, progress = query.get("format") or "xlsx", query.get("progress") == "1"
    return checklist_response(campaign, user=request.user, kind=kind, progress=progress)


@login_required
def item(request: HttpRequest, pk: int) -> HttpResponse:
    """One item across all its units (in the user's scope): status, progress, due, overdue."""
    it = _get_item(request, pk)
    qs = scope.restrict(_assignments().filter(item=it, is_active=True), request.user)
    status = request.GET.get("status", "")
    shown = qs.filter(status=status) if status in S.values else qs
    if request.GET.get("overdue"):
        shown = shown.filter(overdue_q())
    receipt = request.GET.get("receipt", "")  # 签收: "yes" / "no", anything else all
    if receipt in RECEIPT:
        shown = shown.filter(acknowledged_at__isnull=RECEIPT[receipt])
    page = Paginator(shown.order_by("unit__path"), PAGE_SIZE).get_page(request.GET.get("page"))
    target_rows = list(it.targets.select_related("indicator").order_by("seq"))
    for a in page:
        a.item = it  # the page's item: its targets read once for every row
    it._prefetched_objects_cache = {"targets": target_rows}
    lines = targets.lines(list(page))
    for a in page:
        a.lines = lines.get(a.pk, [])
        done = a.lines[0].progress if a.lines else a.progress  # a linked first target: the statistics'
        a.percent = labels.percent(done, a.target)
    totals = progress_counts(qs)
    context = {
        "item": it,
        "targets": target_rows,
        "page": page,
        "totals": totals,
        "unacknowledged": totals["total"] - totals["acknowledged"],
        "receipt": receipt,
        "status": status,
        "overdue": bool(request.GET.get("overdue")),
        "statuses": S.choices,
        "can_edit": scope.can(request.user, Action.MANAGE, it.campaign.owner),
    }
    return render(request, "tasks/item.html", context)


def _get_item(request: HttpRequest, pk: int) -> Item:
    found = (
        Item.objects.in_plan()  # a directive's item is shown on the directive's page, in its scope
        .select_related("campaign__owner", "action")
        .filter(pk=pk, campaign__in=campaigns_for(request.user))
        .first()
    )
    if found is None:
        raise Http404
    return found


# --- Items (HQ edits) ----------------------------------------------------------------------------


ITEM_FIELDS = (
    "title",
    "measures",
    "target_text",
    "target_value",
    "deadline_text",
    "due_date",
    "lead_text",
    "cooperating_text",
)
UNIT_FIELDS = {AssignmentRole.LEAD: "lead_units", AssignmentRole.COOPERATING: "cooperating_units"}


def _managed_item(request: HttpRequest, pk: int) -> Item:
    """The item, for HQ over its campaign's owner: 404 out of sight, 403 seen without the right."""
    it = _get_item(request, pk)
    if not scope.can(request.user, Action.MANAGE, it.campaign.owner):
        raise PermissionDenied
    return it


def _named(it: Item) -> tuple[dict[str, str], list]:
    """The codes of the units the item names one by one, per form field, and the groups it names."""
    codes: dict[str, list[str]] = {field: [] for field in UNIT_FIELDS.values()}
    groups = []
    for rule in it.responsibilities.select_related("unit").order_by("role", "unit__path"):
        if rule.scope == ResponsibilityScope.UNIT:
            codes[UNIT_FIELDS[rule.role]].append(rule.unit.code)
        else:
            groups.append(rule)
    return {field: " ".join(found) for field, found in codes.items()}, groups


def _targets(it: Item) -> dict:
    """The edit form's choice of an indicator per target: the item's targets and the campaign's
    indicators whose figures add up (not a rate)."""
    from stats.models import Indicator, Kind  # stats imports the tasks models

    return {
        "targets": list(it.targets.order_by("seq")),
        "indicators": Indicator.objects.filter(campaign_id=it.campaign_id).exclude(kind=Kind.RATE),
    }


def _edit_page(request: HttpRequest, it: Item, status: int = 200, form=None) -> HttpResponse:
    initial, groups = _named(it)
    form = form or ItemEditForm(initial={**{f: getattr(it, f) for f in ITEM_FIELDS}, **initial}, **_targets(it))
    return render(request, "tasks/item_edit.html", {"item": it, "form": form, "groups": groups}, status=status)


@login_required
def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """HQ changes a published item; ``update_item`` makes the assignments follow. Withdrawing work a
    unit already reported is refused, naming the units, until "confirm" is ticked."""
    it = _managed_item(request, pk)
    if request.method != "POST":
        return _edit_page(request, it)
    initial, _groups = _named(it)
    form = ItemEditForm(request.POST, initial={**{f: getattr(it, f) for f in ITEM_FIELDS}, **initial}, **_targets(it))

    def call(data):
        # only what was sent and changed: an untouched field is not rewritten (nor its units re-read)
        sent = [name for name in form.changed_data if name in request.POST]
        fields = {name: data[name] for name in ITEM_FIELDS if name in sent}
        units = {}
        for field in UNIT_FIELDS.values():
            if field in sent:
                found, unknown = scope.units_by_code(request.user, Action.MANAGE, data[field])
                if unknown:
                    raise Refused(_("Unknown unit codes, or out of your scope: %s") % "、".join(unknown))
                units[field] = [found[code] for code in data[field]]
        indicators = {seq: found for seq, found in form.indicators().items() if f"indicator_{seq}" in sent}
        update_item(
            item=it,
            by=request.user,
            source="web",
            confirm=data["confirm"],
            indicators=indicators,
            **units,
            **fields,
        )
        return _("Item changed."), reverse("web:tasks-item", args=[it.pk])

    return submit(
        request, form, call, page=lambda status, **bound: _edit_page(request, it, status, **bound), key="form"
    )
