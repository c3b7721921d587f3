"""REST endpoints for campaigns, checklist items and assignments.

Every queryset starts from ``accounts.scope``; writes go through ``tasks.services``. An object
outside the user's scope is a 404.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import scope
from accounts.api import UnitSerializer, once_per_request, under, unit_row
from accounts.models import UnitKind
from notifications.api import PolicySerializer
from notifications.policies import reset_policy, rules_for, save_policy
from ops.openapi import UPLOAD_TYPES, download_responses, refusal
from utilities.errors import Forbidden, Refused
from utilities.paging import BoundedPagination
from utilities.params import ApiDateField, DateFilter, IdFilter, ScopedFilterSet
from utilities.tables import FileProblems
from utilities.uploads import attachment, check_data_file

from . import targets
from .checklist import CONTENT_TYPES, FORMATS, checklist_response
from .models import (
    AMOUNT_DIGITS,
    AMOUNT_MAX,
    AMOUNT_PLACES,
    AMOUNT_TOO_LARGE,
    Assignment,
    AssignmentStatus,
    Campaign,
    Comment,
    Evidence,
    ExtensionRequest,
    Item,
    LineOfAction,
    PlanJob,
    PlanJobState,
    PlanUpload,
    PlanUploadStatus,
    ProgressReport,
    Target,
)
from .queries import campaigns_for, is_overdue, overdue_q
from .rows import rows
from .services import checkins
from .services.campaigns import close_campaign, copy_campaign, reopen_campaign
from .services.cascade import Share, pass_down
from .services.chase import chase_assignments
from .services.extensions import decide_extension, request_extension
from .services.items import update_item
from .services.plan_uploads import in_background, job_progress, run_plan, upload_plan
from .services.plans import result_json
from .services.progress import add_comment, report_progress, timeline
from .services.receipts import acknowledge_assignment
from .services.workflow import TRANSITIONS, Step, allowed_transitions, transition_assignment, transition_assignments

WHOLE = {"pagination_class": None, "filter_backends": []}


class CampaignSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.code", read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "code", "name", "owner", "start", "end", "status", "published_at", "compare_to", "closed_at"]


class CampaignDetailSerializer(CampaignSerializer):
    """One campaign, with the final figures stored when it was closed (empty while it runs)."""

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "final_summary"]


class CampaignCopySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    code = serializers.CharField(max_length=40)
    start = ApiDateField()
    end = ApiDateField()


class CampaignCloseSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CampaignReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


@extend_schema_serializer(component_name="Action")  # the API's word, as its path /actions/ and the items' action
class LineOfActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = LineOfAction
        fields = ["id", "campaign", "code", "seq", "name", "leader_name"]


class TargetSerializer(serializers.ModelSerializer):
    """One target of an item as written (盗窃警情同比下降15%), read into comparator, value and unit;
    ``indicator``: the results statistics' line whose figures are its progress, or null."""

    indicator_name = serializers.CharField(source="indicator.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Target
        fields = [
            "seq",
            "text",
            "metric",
            "comparator",
            "value",
            "unit",
            "basis",
            "direction",
            "per",
            "indicator",
            "indicator_name",
        ]


class TargetLineSerializer(serializers.Serializer):
    """One target as the assignment's unit's work: what it must reach, how far it is, from where."""

    seq = serializers.IntegerField()
    text = serializers.CharField()
    comparator = serializers.CharField()
    unit = serializers.CharField()
    basis = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    progress = serializers.DecimalField(max_digits=20, decimal_places=4)
    source = serializers.ChoiceField(
        choices=["reports", "statistics"],
        help_text="statistics: 来自战果统计, the unit's and its subtree's figures of the indicator (not reported here)",
    )
    indicator = serializers.IntegerField(allow_null=True)
    short = serializers.BooleanField(help_text="An amount to reach, not reached")
    behind_pace = serializers.BooleanField()


def target_lines(lines) -> list[dict]:
    return [
        {
            "seq": line.target.seq,
            "text": line.target.text,
            "comparator": line.target.comparator,
            "unit": line.target.unit,
            "basis": line.target.basis,
            "amount": _amount(line.amount),
            # reports: an amount (2 places); the statistics: the figures' sum as stored (a quantity has 3)
            "progress": f"{line.progress:f}"
            if line.linked
            else _amount(Decimal(line.progress).quantize(Decimal("0.01"))),
            "source": "statistics" if line.linked else "reports",
            "indicator": line.target.indicator_id,
            "short": line.short,
            "behind_pace": line.behind,
        }
        for line in lines
    ]


class ItemSerializer(serializers.ModelSerializer):
    action_code = serializers.CharField(source="action.code", read_only=True)
    targets = TargetSerializer(many=True, read_only=True, help_text="Every target of the cell, in order")

    class Meta:
        model = Item
        fields = [
            "id",
            "campaign",
            "action",
            "action_code",
            "code",
            "title",
            "measures",
            "target_text",
            "target_metric",
            "target_comparator",
            "target_value",
            "target_unit",
            "target_basis",
            "target_direction",
            "lead_text",
            "cooperating_text",
            "leader_name",
            "deadline_text",
            "deadline_kind",
            "due_date",
            "cadence_weekday",
            "cadence_day",
            "milestones",
            "acceptance",
            "is_active",
            "targets",
        ]


class ChecklistQuery(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS, default="xlsx", help_text="The file: Excel or Word")
    progress = serializers.BooleanField(
        default=False, help_text="Add each item's completion and overdue units, over the caller's scope"
    )


class _NoSettings:
    URL_FORMAT_OVERRIDE = None  # ``?format=`` is the operation's own parameter


class FileDownloadNegotiation(DefaultContentNegotiation):
    """For an operation that answers a file named by its own ``?format=`` (not one of DRF's renderers):
    the query parameter chooses nothing here, and an Accept header asking for the file's type is no
    406; a refusal is JSON."""

    settings = _NoSettings()

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CampaignSerializer  # the list's; one campaign: CampaignDetailSerializer
    filterset_fields = ["status"]
    search_fields = ["name", "code"]

    def get_queryset(self):
        user = self.request.user
        return campaigns_for(user).select_related("owner")

    @extend_schema(parameters=[ChecklistQuery], responses=download_responses(CONTENT_TYPES.values()))
    @action(detail=True, methods=["get"], content_negotiation_class=FileDownloadNegotiation, filter_backends=[])
    def checklist(self, request, pk=None):
        """The campaign's checklist (责任清单) as the office files it, an XLSX or DOCX that reads back
        through the plan import; with ``progress`` each item's completion (accepted/total) and its units
        with overdue work, counted over the caller's scope. A draft only for HQ managing it."""
        campaign = self.get_object()
        query = ChecklistQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        kind, progress = query.validated_data["format"], query.validated_data["progress"]
        return checklist_response(campaign, user=request.user, kind=kind, progress=progress)

    def get_serializer_class(self):
        return CampaignSerializer if self.action == "list" else CampaignDetailSerializer

    @extend_schema(request=CampaignCopySerializer, responses={201: CampaignDetailSerializer})
    @action(detail=True, methods=["post"], **WHOLE)
    def copy(self, request, pk=None):
        """This year's campaign from this one (HQ over its owner): a draft with the lines of action, items,
        responsibilities and listed hotspots, every date moved into the new period, compared with this one."""
        source = self.get_object()
        body = CampaignCopySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        new = copy_campaign(source=source, by=request.user, **body.validated_data)
        return Response(CampaignDetailSerializer(new).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CampaignCloseSerializer, responses={200: CampaignDetailSerializer})
    @action(detail=True, methods=["post"], **WHOLE)
    def close(self, request, pk=None):
        """Close the campaign (HQ over its owner): reports, figures, supervision and reminders stop; the
        final figures are stored and answered."""
        campaign = self.get_object()
        body = CampaignCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        closed = close_campaign(campaign=campaign, by=request.user, note=body.validated_data["note"])
        return Response(CampaignDetailSerializer(closed).data)

    @extend_schema(request=CampaignReopenSerializer, responses={200: CampaignDetailSerializer})
    @action(detail=True, methods=["post"], **WHOLE)
    def reopen(self, request, pk=None):
        """Reopen a closed campaign (HQ over its owner), with a reason."""
        campaign = self.get_object()
        body = CampaignReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reopened = reopen_campaign(campaign=campaign, by=request.user, reason=body.validated_data["reason"])
        return Response(CampaignDetailSerializer(reopened).data)

    @extend_schema(methods=["GET"], request=None, responses={200: PolicySerializer})
    @extend_schema(methods=["PUT"], request=PolicySerializer, responses={200: PolicySerializer})
    @extend_schema(methods=["DELETE"], request=None, responses={200: PolicySerializer})
    @action(detail=True, methods=["get", "put", "delete"], url_path="reminder-policy", **WHOLE)
    def reminder_policy(self, request, pk=None):
        """The campaign's reminder rules (HQ over its owner): those in force, its own or the default's
        (``own``); PUT saves its own (a field left out keeps its value), DELETE goes back to the default."""
        campaign = self.get_object()
        if request.method == "PUT":
            body = PolicySerializer(data=request.data)
            body.is_valid(raise_exception=True)
            save_policy(campaign=campaign, by=request.user, **body.validated_data)
        elif request.method == "DELETE":
            reset_policy(campaign=campaign, by=request.user)
        return Response(PolicySerializer(rules_for(campaign=campaign, by=request.user)).data)


class LineOfActionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LineOfActionSerializer
    filterset_fields = ["campaign"]

    def get_queryset(self):
        return LineOfAction.objects.filter(campaign__in=campaigns_for(self.request.user)).order_by("campaign", "seq")


def amount_field(**kwargs) -> serializers.DecimalField:
    """An amount as the columns hold it; too many digits or too large says the limit (``AMOUNT_MAX``)."""
    too_large = {code: AMOUNT_TOO_LARGE for code in ("max_digits", "max_whole_digits", "max_value")}
    return serializers.DecimalField(
        max_digits=AMOUNT_DIGITS,
        decimal_places=AMOUNT_PLACES,
        max_value=AMOUNT_MAX,
        error_messages=too_large,
        **kwargs,
    )


class TargetLinkSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=1, max_value=100)
    indicator = serializers.IntegerField(min_value=1, max_value=2**63 - 1, allow_null=True)


class ItemChangeSerializer(serializers.Serializer):
    """What HQ may change on an item; every field optional (PATCH). Units by code: the units named one by
    one for the role become exactly these (groups the plan named, "各派出所", stay)."""

    title = serializers.CharField(required=False)
    measures = serializers.CharField(required=False, allow_blank=True)
    acceptance = serializers.CharField(required=False, allow_blank=True)
    target_text = serializers.CharField(required=False, allow_blank=True, max_length=500)
    target_value = amount_field(required=False, allow_null=True)
    target_unit = serializers.CharField(required=False, allow_blank=True, max_length=20)
    lead_text = serializers.CharField(required=False, max_length=500)
    cooperating_text = serializers.CharField(required=False, allow_blank=True, max_length=500)
    deadline_text = serializers.CharField(required=False, max_length=200)
    due_date = ApiDateField(required=False, allow_null=True)
    lead_units = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, help_text="Unit codes of the lead units"
    )
    cooperating_units = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, help_text="Unit codes of the cooperating units"
    )
    confirm = serializers.BooleanField(
        required=False, default=False, help_text="Withdraw work units already reported (else refused with 409)"
    )
    indicators = serializers.ListField(
        child=TargetLinkSerializer(),
        required=False,
        help_text="Link a target (by seq) to an indicator of the campaign (its id), or unlink it (null)",
    )


class ItemViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ItemSerializer
    filterset_fields = ["campaign", "action", "deadline_kind", "is_active"]
    search_fields = ["code", "title", "lead_text"]

    def get_queryset(self):
        qs = Item.objects.in_plan().filter(campaign__in=campaigns_for(self.request.user)).select_related("action")
        each = Prefetch("targets", queryset=Target.objects.select_related("indicator").order_by("seq"))
        return qs.prefetch_related(each).order_by("campaign", "seq")

    @extend_schema(
        request=ItemChangeSerializer,
        responses={
            200: ItemSerializer,
            409: refusal(409, "It would withdraw work units already reported: the units; send confirm to do it"),
        },
    )
    def partial_update(self, request, pk=None):
        """HQ changes a published item (texts, target, units, deadline); its assignments follow in the same
        transaction: new units get theirs, dropped ones are withdrawn with their history kept, due dates move
        unless an approved extension set them."""
        item = self.get_object()
        if not scope.can(request.user, scope.Action.MANAGE, item.campaign.owner):
            # before resolving the unit codes, which are looked up in the caller's manage scope
            raise Forbidden("只有行动牵头的领导小组办公室可以修改清单项")
        body = ItemChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        confirm = data.pop("confirm")
        units = {
            role: _units(request.user, data.pop(role)) for role in ("lead_units", "cooperating_units") if role in data
        }
        links = _indicators(item, data.pop("indicators", []))
        item = update_item(item=item, by=request.user, source="api", confirm=confirm, indicators=links, **units, **data)
        return Response(ItemSerializer(self.get_queryset().get(pk=item.pk)).data)


def _target(assignment: Assignment, seq: int | None) -> Target | None:
    """The item's target numbered ``seq`` (None: the first, by default)."""
    if seq is None:
        return None
    found = Target.objects.filter(item_id=assignment.item_id, seq=seq).first()
    if found is None:
        raise Refused(f"该任务没有第{seq}项量化指标")
    return found


def _indicators(item: Item, links: list[dict]) -> dict:
    """Target seq → the campaign's indicator named by id (or None); an id not of the campaign refused."""
    from stats.models import Indicator  # stats imports the tasks models

    ids = {link["indicator"] for link in links if link["indicator"] is not None}
    found = {i.pk: i for i in Indicator.objects.filter(campaign_id=item.campaign_id, pk__in=ids)}
    if missing := ids - set(found):
        raise Refused(f"指标不存在或不属于本行动：{'、'.join(map(str, sorted(missing)))}")
    return {link["seq"]: found.get(link["indicator"]) for link in links}


def _units(user, codes: list[str]):
    found, unknown = scope.units_by_code(user, scope.Action.MANAGE, list(dict.fromkeys(codes)))
    if unknown:
        raise Refused(f"单位不存在或不在您的范围内：{'、'.join(unknown)}")
    return list(found.values())


# DRF's own formats, for the hand-written rows
_AMOUNT = serializers.DecimalField(max_digits=14, decimal_places=2)
_DATE = serializers.DateField()
_STAMP = serializers.DateTimeField()


def _amount(value):
    """``_AMOUNT``'s string. An amount read from a ``numeric(14, 2)`` column already has two places and
    at most 14 digits, so DRF's quantize (a decimal context copied per value) changes nothing: written
    straight (tests compare every kind of value with DRF's own)."""
    if value is None:
        return None
    if type(value) is Decimal:
        parts = value.as_tuple()
        if parts.exponent == -2 and len(parts.digits) <= 14:
            return f"{value:f}"
    return _AMOUNT.to_representation(value)


def _date(value):
    """``_DATE``'s string: DRF's ISO format is the date's own ``isoformat``; anything else through DRF."""
    if type(value) is date:
        return value.isoformat()
    return _DATE.to_representation(value)


def _stamp(value, tz):
    """``_STAMP``'s string, the time zone read once per request (``zone_of``): DRF reads the current zone
    per value, a twentieth of a lead's list. Same text as DRF's (``Z`` for UTC); anything unusual (naive,
    out of range) goes through DRF itself."""
    if value is None:
        return None
    if type(value) is datetime and value.tzinfo is not None:
        try:
            text = value.astimezone(tz).isoformat()
        except OverflowError:
            return _STAMP.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return _STAMP.to_representation(value)


def zone_of(context: dict):
    """The request's time zone, once per request."""
    tz = context.get("_zone")
    if tz is None:
        tz = context["_zone"] = timezone.get_current_timezone()
    return tz


def today_of(context: dict):
    """The local date, once per request (``is_overdue`` and the pace would read the clock per row)."""
    today = context.get("_today")
    if today is None:
        today = context["_today"] = timezone.localdate()
    return today


class ItemBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["id", "code", "title", "target_text", "target_value", "deadline_text", "action"]


class AssignmentListSerializer(serializers.ListSerializer):
    """A page of assignments: each one's pace judged by every target of its item, as its page judges it,
    in one query for the page (``targets.judged``) before the rows are written."""

    def to_representation(self, data):
        rows = list(data.all() if hasattr(data, "all") else data)
        context = self.child.context
        context["_judged"] = targets.judged(rows, today_of(context))
        if type(self.child) is not AssignmentSerializer:  # a subclass writes its rows its own way
            return super().to_representation(rows)
        write = self.child.writer()  # the page's words, day and zone read once, not per row
        return [write(row) for row in rows]


class AssignmentSerializer(serializers.ModelSerializer):
    item = ItemBriefSerializer(read_only=True)
    unit = UnitSerializer(read_only=True)
    status_display = serializers.SerializerMethodField()
    is_overdue = serializers.BooleanField(read_only=True)
    # null: a qualitative item (建立长效机制) has no number to reach
    target = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)
    behind_pace = serializers.SerializerMethodField()
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.get_full_name", read_only=True, default=None, allow_null=True, help_text="签收: who"
    )

    def get_status_display(self, obj) -> str:
        # one dict per request instead of get_FOO_display rebuilding the translated choices per row
        return once_per_request(self.context, "_status_labels", AssignmentStatus).get(obj.status, obj.status)

    def to_representation(self, obj):
        return self.writer()(obj)

    def writer(self):
        """The row writer: ``to_representation`` by hand, as ``UnitSerializer``'s. DRF's generic loop over
        19 fields and two nested serializers was most of a lead's list request. Same keys, order and
        formats as ``Meta.fields`` (tests compare it with the generic one row by row). The words, the unit
        kinds', the day and the zone are read once (a list writes every row with one writer); a row is a
        model or a plain row (``tasks.rows``)."""
        context = self.context
        statuses = once_per_request(context, "_status_labels", AssignmentStatus)
        kinds = once_per_request(context, "_kind_labels", UnitKind)
        today, zone, judged = today_of(context), zone_of(context), context.get("_judged", {})

        def write(obj) -> dict:
            item, by = obj.item, obj.acknowledged_by
            pace = judged.get(obj.id) or targets.judged([obj], today)[obj.id]
            return {
                "id": obj.id,
                "campaign": obj.campaign_id,
                "item": {
                    "id": item.id,
                    "code": item.code,
                    "title": item.title,
                    "target_text": item.target_text,
                    "target_value": _amount(item.target_value),
                    "deadline_text": item.deadline_text,
                    "action": item.action_id,
                },
                "unit": unit_row(obj.unit, kinds),
                "role": obj.role,
                "due_date": _date(obj.due_date),
                "status": obj.status,
                "status_display": statuses.get(obj.status, obj.status),
                "is_overdue": is_overdue(obj, today),
                "is_active": obj.is_active,
                "progress": _amount(obj.progress),
                "target": _amount(obj.target),
                # by every target of the item (a linked one from the results statistics), not the first only
                "behind_pace": pace.behind,
                "parent": obj.parent_id,
                "extensions": obj.extensions,
                "version": obj.version,
                "updated_at": _stamp(obj.updated_at, zone),
                "acknowledged_at": _stamp(obj.acknowledged_at, zone),
                "acknowledged_by": None if by is None else by.get_full_name(),
            }

        return write

    def get_behind_pace(self, obj) -> bool:
        return obj.is_behind_pace()

    class Meta:
        model = Assignment
        list_serializer_class = AssignmentListSerializer
        fields = [
            "id",
            "campaign",
            "item",
            "unit",
            "role",
            "due_date",
            "status",
            "status_display",
            "is_overdue",
            "is_active",
            "progress",
            "target",
            "behind_pace",
            "parent",
            "extensions",
            "version",
            "updated_at",
            "acknowledged_at",
            "acknowledged_by",
        ]


class CheckInSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    start = serializers.DateField()
    due = serializers.DateField()
    status = serializers.ChoiceField(choices=[s.value for s in checkins.CheckInStatus])
    status_display = serializers.CharField(source="status.label")
    reported_at = serializers.DateTimeField(allow_null=True)


class CheckInSummarySerializer(serializers.Serializer):
    periods = serializers.IntegerField()
    missed = serializers.IntegerField()
    next_due = serializers.DateField(allow_null=True)


class AssignmentDetailSerializer(AssignmentSerializer):
    allowed_transitions = serializers.SerializerMethodField()
    checkins = serializers.SerializerMethodField(help_text="Cadence items only: periods, missed, next due")

    targets = serializers.SerializerMethodField(help_text="Every target of the item as this unit's work")

    class Meta(AssignmentSerializer.Meta):
        fields = [*AssignmentSerializer.Meta.fields, "allowed_transitions", "checkins", "targets"]

    def to_representation(self, obj):
        # the item's targets read once for the pace (``judged``: no statement when the item has only a
        # plain first target) and the lines
        today, by_item = today_of(self.context), targets.targets_of([obj])
        self.context.setdefault("_judged", {}).update(targets.judged([obj], today, by_item))
        row = super().to_representation(obj)
        row["allowed_transitions"] = self.get_allowed_transitions(obj)
        row["checkins"] = self.get_checkins(obj)
        row["targets"] = target_lines(targets.lines([obj], today, by_item).get(obj.pk, []))
        return row

    @extend_schema_field(TargetLineSerializer(many=True))
    def get_targets(self, obj):
        return target_lines(targets.lines([obj]).get(obj.pk, []))

    def get_allowed_transitions(self, obj) -> list[str]:
        return allowed_transitions(self.context["request"].user, obj)

    @extend_schema_field(CheckInSummarySerializer(allow_null=True))
    def get_checkins(self, obj):
        if not checkins.has_cadence(obj.item):
            return None
        rows = checkins.checkins(obj)
        S = checkins.CheckInStatus
        upcoming = [c.due for c in rows if c.status in (S.DUE, S.UPCOMING)]
        return {
            "periods": len(rows),
            "missed": sum(c.status == S.MISSED for c in rows),
            "next_due": upcoming[0] if upcoming else None,
        }


class EvidenceSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "name", "content_type", "size", "sha256", "uploaded_at", "download"]

    def get_download(self, obj) -> str:
        return f"/api/v1/evidence/{obj.pk}/download/"

    def to_representation(self, obj):
        return evidence_row(obj, zone_of(self.context))


def evidence_row(obj, zone) -> dict:
    """``EvidenceSerializer``'s row by hand (``ProgressReportSerializer``)."""
    return {
        "id": obj.id,
        "name": obj.name,
        "content_type": obj.content_type,
        "size": obj.size,
        "sha256": obj.sha256,
        "uploaded_at": _stamp(obj.uploaded_at, zone),
        "download": f"/api/v1/evidence/{obj.id}/download/",
    }


class ProgressReportSerializer(serializers.ModelSerializer):
    reported_by = serializers.CharField(source="reported_by.get_full_name", read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)
    target = serializers.IntegerField(
        source="target.seq",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="The item's target (seq) the value counts toward; null: the first",
    )

    class Meta:
        model = ProgressReport
        fields = ["id", "value", "text", "period", "target", "reported_by", "reported_at", "evidence"]

    def to_representation(self, obj):
        # By hand, as ``AssignmentSerializer``: DRF built these fields from the model for every report
        # answered, a seventh of a report POST. Same keys, order and formats (``tests/tasks/test_list_rows.py``
        # compares it with DRF's own).
        zone = zone_of(self.context)
        return {
            "id": obj.id,
            "value": _amount(obj.value),
            "text": obj.text,
            "period": _date(obj.period),
            "target": None if obj.target_id is None else obj.target.seq,
            "reported_by": obj.reported_by.get_full_name(),
            "reported_at": _stamp(obj.reported_at, zone),
            "evidence": [evidence_row(e, zone) for e in obj.evidence.all()],
        }


class ReportRequestSerializer(serializers.Serializer):
    value = amount_field(required=False, allow_null=True)
    text = serializers.CharField(required=False, allow_blank=True, default="")
    period = ApiDateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Cadence items: the due date of the check-in period answered (default: the running one)",
    )
    version = serializers.IntegerField(required=False, allow_null=True, default=None)
    target = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=100,
        help_text="The item's target (its seq) the value counts toward; default the first. One linked to the "
        "results statistics is refused",
    )


class ReportRequestDoc(ReportRequestSerializer):
    # Only for the schema: the files are read from request.FILES and checked by utilities.uploads, whose
    # messages (type from content, size limit) are the ones users see.
    files = serializers.ListField(child=serializers.FileField(), required=False, help_text="Evidence files")


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_full_name", read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class EventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    verb = serializers.CharField()
    actor = serializers.CharField(source="actor.get_full_name", default="", allow_null=True)
    changes = serializers.JSONField()


class AssignmentFilter(ScopedFilterSet):
    mine = filters.BooleanFilter(method="filter_mine", label="只看本单位")
    unit = filters.CharFilter(method="filter_unit", label="单位编码：该单位及其全部下级")
    unit_subtree = filters.CharFilter(method="filter_unit", label="单位编码：该单位及其全部下级（同 unit）")
    overdue = filters.BooleanFilter(method="filter_overdue", label="已逾期")
    acknowledged = filters.BooleanFilter(
        field_name="acknowledged_at", lookup_expr="isnull", exclude=True, label="已签收"
    )
    due_before = DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = DateFilter(field_name="due_date", lookup_expr="gte")
    action = IdFilter(field_name="item__action")
    # distinct=False: status is the row's own column; DISTINCT over 60 joined columns made the
    # HQ list sort wide rows on disk instead of walking the (due_date, id) index.
    status = filters.MultipleChoiceFilter(choices=AssignmentStatus.choices, distinct=False)

    class Meta:
        model = Assignment
        fields = ["campaign", "item", "role", "is_active", "status", "parent"]

    def filter_mine(self, queryset, name, value):
        return queryset.mine(self.request.user, value)

    def filter_unit(self, queryset, name, value):
        return under(queryset, value)

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())


TransitionRequest = inline_serializer(
    "TransitionRequest",
    {
        "name": serializers.ChoiceField(choices=sorted(TRANSITIONS)),
        "note": serializers.CharField(required=False, allow_blank=True),
        "version": serializers.IntegerField(required=False, help_text="The version read; refused if it changed"),
    },
)


class ShareSerializer(serializers.Serializer):
    unit = serializers.CharField(help_text="Unit code")
    target = amount_field(
        required=False, allow_null=True, help_text="The share of the item's first target; empty: its whole target"
    )
    targets = serializers.DictField(
        child=amount_field(min_value=0, allow_null=True),
        required=False,
        default=dict,
        help_text="The shares of the item's later targets, keyed by the target's seq (2, 3, …; `targets[].seq` "
        'of the assignment), e.g. {"2": "30"}; a target left out (or null) carries the item\'s whole value '
        "of it. Each is at most the parent's amount of that target; passing down again replaces them",
    )
    due_date = ApiDateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    def validate_targets(self, value: dict) -> dict[int, Decimal | None]:
        out = {}
        for key, amount in value.items():
            if not (isinstance(key, str) and key.isascii() and key.isdigit() and 2 <= int(key) <= 100):
                raise serializers.ValidationError({key: [gettext("Not the seq of a later target (2, 3, …)")]})
            out[int(key)] = amount
        return out


class PassDownQuery(serializers.Serializer):
    keep_remainder = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The shares may come to less than the target: the unit keeps the remainder itself "
        "(余量由本单位承担); without it such a split is refused with 409 and the remainder",
    )


class ExtensionRequestSerializer(serializers.ModelSerializer):
    requested_due = ApiDateField()
    requested_by = serializers.CharField(source="requested_by.get_full_name", read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.get_full_name", read_only=True, default=None, allow_null=True, help_text="Null until decided"
    )

    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "assignment",
            "requested_due",
            "previous_due",
            "reason",
            "requested_by",
            "requested_at",
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = [
            "id",
            "assignment",
            "previous_due",
            "requested_by",
            "requested_at",
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
        ]


class DecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class TransitionSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=sorted(TRANSITIONS))
    note = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, allow_null=True, default=None)
    confirm_shortfall = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Submit work below its target anyway (else 409: 进度 17%（85/500），确认提交验收？)",
    )


class BulkTransitionSerializer(TransitionSerializer):
    id = serializers.IntegerField()


class ChaseSerializer(serializers.Serializer):
    """催办: the assignments by ``ids``, or by the list's filters (a board cell's: ``campaign`` required)."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False, max_length=10000
    )
    campaign = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    action = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1, help_text="Line of action id")
    unit_subtree = serializers.CharField(required=False, max_length=32, help_text="That unit and everything under it")
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    status = serializers.MultipleChoiceField(choices=AssignmentStatus.choices, required=False)
    due_before = ApiDateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    def validate(self, data):
        if not data.get("ids") and not data.get("campaign"):
            raise serializers.ValidationError("请选择要催办的任务（ids），或给出行动（campaign）及筛选条件")
        return data


class ChasedSerializer(serializers.Serializer):
    chased = serializers.IntegerField(help_text="Assignments chased now")
    units = serializers.IntegerField(help_text="Units told (one message per unit)")
    already = serializers.IntegerField(help_text="Left out: chased today already")
    first_at = serializers.DateTimeField(allow_null=True, help_text="The first chase today of those left out")
    not_open = serializers.IntegerField(help_text="Left out: submitted, accepted or withdrawn")


# An assignment's own lists (reports, comments, …) answer whole, as a JSON list: no pages, and no list
# filters, which would only narrow the lookup of the one assignment named in the path.


# what a report's POST reads of the row it names before ``report_progress`` locks it: the id, the item
# (the target named), the parent (the chain of shares locked from the top)
REPORTED_COLUMNS = ("id", "item_id", "parent_id", "unit_id")


def _reported() -> QuerySet:
    return Assignment.objects.only(*REPORTED_COLUMNS)


def _listed() -> QuerySet:
    return rows().order_by("due_date", "id")


def _shown() -> QuerySet:
    return Assignment.objects.select_related("item", "unit", "campaign", "acknowledged_by").order_by("due_date", "id")


class AssignmentViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = BoundedPagination  # no COUNT(*) over a province's assignments on every page
    filterset_class = AssignmentFilter
    search_fields = ["item__code", "item__title", "unit__name"]
    # each served by an index on (field, id): a sort by status would sort the whole province per page
    ordering_fields = ["due_date", "updated_at"]

    def get_queryset(self):
        # each narrowed to the caller's scope once per process for each set of grants (``scope.restricted``)
        if self.action == "reports" and self.request.method == "POST":
            # whether the caller sees the row: ``report_progress`` reads and locks it with what it needs
            return scope.restricted(_reported, self.request.user)
        if self.action == "list":  # plain rows of the columns a row is written and judged from (``tasks.rows``)
            return scope.restricted(_listed, self.request.user)
        return scope.restricted(_shown, self.request.user)

    def get_serializer_class(self):
        return AssignmentDetailSerializer if self.action != "list" else AssignmentSerializer

    def _transition(self, assignment, data):
        return transition_assignment(
            assignment=assignment,
            name=data["name"],
            by=self.request.user,
            note=data["note"],
            expected_version=data["version"],
            confirm_shortfall=data["confirm_shortfall"],
        )

    @extend_schema(
        request=TransitionSerializer,
        responses={
            200: AssignmentDetailSerializer,
            400: refusal(400, "Not allowed now: the transitions allowed"),
            409: refusal(409, "The version sent is stale: the current one; or a submit below target unconfirmed"),
        },
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the assignment on: start, submit, resume (unit); accept, return, reopen (reviewer)."""
        assignment = self.get_object()
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignment = self._transition(assignment, body.validated_data)
        return Response(AssignmentDetailSerializer(assignment, context={"request": request}).data)

    @extend_schema(request=None, responses={200: AssignmentDetailSerializer})
    @action(detail=True, methods=["post"], **WHOLE)
    def acknowledge(self, request, pk=None):
        """签收: the unit has received the work (report rights over it); again, nothing changes."""
        assignment = acknowledge_assignment(assignment=self.get_object(), by=request.user)
        return Response(
            AssignmentDetailSerializer(self.get_queryset().get(pk=assignment.pk), context={"request": request}).data
        )

    @extend_schema(methods=["GET"], responses=ProgressReportSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=ReportRequestDoc,
        responses={201: ProgressReportSerializer, 409: refusal(409, "The version sent is stale: the current one")},
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser, JSONParser], **WHOLE)
    def reports(self, request, pk=None):
        """The unit's progress reports; POST (multipart, files in "files") adds one."""
        assignment = self.get_object()
        if request.method == "GET":
            reports = assignment.reports.select_related("reported_by", "target").prefetch_related("evidence")
            return Response(ProgressReportSerializer(reports, many=True).data)
        body = ReportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        report = report_progress(
            assignment=assignment,
            by=request.user,
            value=data.get("value"),
            text=data["text"],
            files=request.FILES.getlist("files"),
            expected_version=data["version"],
            period=data["period"],
            target=_target(assignment, data["target"]),
        )
        return Response(ProgressReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=CommentSerializer(many=True))
    @extend_schema(methods=["POST"], request=CommentSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"], **WHOLE)
    def comments(self, request, pk=None):
        assignment = self.get_object()
        if request.method == "GET":
            return Response(CommentSerializer(assignment.comments.select_related("author"), many=True).data)
        body = CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comment = add_comment(assignment=assignment, by=request.user, text=body.validated_data["text"])
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ShareSerializer(many=True),
        parameters=[PassDownQuery],
        responses={201: AssignmentSerializer(many=True)},
    )
    # a list body is JSON only: a form cannot carry one (DRF read it as no shares at all)
    @action(detail=True, methods=["post"], url_path="pass-down", parser_classes=[JSONParser], **WHOLE)
    def pass_down(self, request, pk=None):
        """Split this assignment among units under it (逐级分解): unit code, share of the first target, shares
        of the later ones (``targets``: seq → amount), due date. A refused share answers 400 with its
        ``row`` and, for an amount, its ``field`` (``target``, ``targets.2``)."""
        assignment = self.get_object()
        if not scope.can(request.user, scope.Action.REPORT, assignment.unit):
            # before resolving the share units, which are looked up in the caller's report scope
            raise Forbidden("无权分解该单位的任务")
        query = PassDownQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = ShareSerializer(data=request.data, many=True)
        body.is_valid(raise_exception=True)
        codes = [row["unit"] for row in body.validated_data]
        units, unknown = scope.units_by_code(request.user, scope.Action.REPORT, codes)
        if unknown:
            raise Refused(f"单位不存在或不在您的范围内：{'、'.join(unknown)}")
        shares = [
            Share(units[r["unit"]], r.get("target"), r.get("due_date"), r["note"], r["targets"])
            for r in body.validated_data
        ]
        children = pass_down(
            assignment=assignment, by=request.user, shares=shares, keep_remainder=query.validated_data["keep_remainder"]
        )
        rows = self.get_queryset().filter(pk__in=[c.pk for c in children])
        return Response(AssignmentSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=ExtensionRequestSerializer(many=True))
    @extend_schema(methods=["POST"], request=ExtensionRequestSerializer, responses={201: ExtensionRequestSerializer})
    @action(detail=True, methods=["get", "post"], **WHOLE)
    def extensions(self, request, pk=None):
        """Deadline extension requests (延期申请) of this assignment; POST asks for one."""
        assignment = self.get_object()
        if request.method == "GET":
            rows = assignment.extension_requests.select_related("requested_by", "decided_by")
            return Response(ExtensionRequestSerializer(rows, many=True).data)
        body = ExtensionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        made = request_extension(
            assignment=assignment, by=request.user, due=data["requested_due"], reason=data["reason"]
        )
        return Response(ExtensionRequestSerializer(made).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=CheckInSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="check-ins", **WHOLE)
    def check_ins(self, request, pk=None):
        """The periodic check-ins of a cadence item (每周/每月/每日报送): due date and status of each period."""
        return Response(CheckInSerializer(checkins.checkins(self.get_object()), many=True).data)

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"], **WHOLE)
    def timeline(self, request, pk=None):
        """Every recorded event of the assignment, oldest first: who, when, what changed."""
        return Response(EventSerializer(timeline(self.get_object()), many=True).data)

    @extend_schema(
        request=BulkTransitionSerializer(many=True),
        responses={
            200: AssignmentSerializer(many=True),
            400: refusal(400, "A row is not allowed now (its index, id and the transitions allowed); nothing done"),
            403: refusal(403, "A row needs a right the caller lacks (its index and id); nothing done"),
            404: refusal(404, "A row's assignment is missing or out of scope (its index and id); nothing done"),
            409: refusal(
                409, "A row's version is stale, or its submit below target unconfirmed (its index and id); nothing done"
            ),
        },
    )
    # the rows done, in the order asked: one list (the ids are in the body, list filters do not apply)
    @action(detail=False, methods=["post"], url_path="bulk-transition", parser_classes=[JSONParser], **WHOLE)
    def bulk_transition(self, request):
        """Several transitions in one request: all are made, or none (every refused row is named in ``rows``;
        ``index`` and ``id`` are the first one's)."""
        body = BulkTransitionSerializer(data=request.data, many=True)
        body.is_valid(raise_exception=True)
        steps = [Step(r["id"], r["name"], r["note"], r["version"], r["confirm_shortfall"]) for r in body.validated_data]
        done = transition_assignments(steps=steps, by=request.user)
        return Response(AssignmentSerializer(done, many=True).data)

    @extend_schema(
        request=ChaseSerializer,
        responses={
            200: ChasedSerializer,
            400: refusal(400, "Nothing to chase (all submitted, accepted or withdrawn), or no ids nor campaign"),
            403: refusal(403, "Not HQ nor a leader over the units"),
            404: refusal(404, "An id is missing or out of scope; nothing done"),
            409: refusal(409, "Every assignment asked for was chased today already: chased_at, the first time"),
        },
    )
    @action(detail=False, methods=["post"], parser_classes=[JSONParser], **WHOLE)
    def chase(self, request):
        """催办: HQ or a leader over the units chases up their open work, by ``ids`` or by the list's filters
        (a battle board cell's); each unit's leads are told once ("等N项"), each assignment's history records
        it. At most once a day per assignment: those chased today already are left out and counted; if all
        were, 409 with the time of the first."""
        body = ChaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        note = data.pop("note")
        ids = data.pop("ids", None)
        if ids:
            target = ids
        else:
            params = {k: v for k, v in data.items() if v is not None}
            if "status" in params:
                params["status"] = sorted(params["status"])
            if "due_before" in params:
                params["due_before"] = params["due_before"].isoformat()
            found = AssignmentFilter(data=params, queryset=Assignment.objects.all(), request=request)
            if not found.is_valid():
                return Response(found.errors, status=400)
            target = found.qs
        done = chase_assignments(assignments=target, by=request.user, note=note, source="api")
        return Response(ChasedSerializer(done).data)


class EvidenceViewSet(viewsets.ReadOnlyModelViewSet):
    """Evidence files; the download goes through the same scope check as the assignment."""

    serializer_class = EvidenceSerializer

    def get_queryset(self):
        return Evidence.objects.visible_to(self.request.user)

    @extend_schema(responses=download_responses(UPLOAD_TYPES))
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        return attachment(self.get_object())


class ExtensionRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """Extension requests in the user's scope; reviewers decide them."""

    serializer_class = ExtensionRequestSerializer
    filterset_fields = ["status", "assignment"]

    def get_queryset(self):
        return ExtensionRequest.objects.select_related("requested_by", "decided_by").visible_to(self.request.user)

    @extend_schema(request=DecisionSerializer, responses=ExtensionRequestSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        extension = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decided = decide_extension(request=extension, by=request.user, **body.validated_data)
        return Response(ExtensionRequestSerializer(decided).data)


# --- Plans (HQ) -------------------------------------------------------------------------------------


class PlanRequest(serializers.Serializer):
    """A plan for an existing campaign (``campaign``) or a new one (``name``, ``start``, ``end``, ``owner``)."""

    file = serializers.FileField(help_text="The plan: XLSX, DOCX, CSV, YAML or JSON (decided from its bytes)")
    campaign = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text="A draft or published campaign HQ manages"
    )
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    code = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    start = ApiDateField(required=False, allow_null=True, default=None)
    end = ApiDateField(required=False, allow_null=True, default=None)
    owner = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=40, help_text="Unit code of the owning HQ"
    )
    dry_run = serializers.BooleanField(required=False, default=True, help_text="Show what would change; write nothing")
    publish = serializers.BooleanField(required=False, default=False, help_text="Publish a draft: every assignment")


class PlanLocation(serializers.Serializer):
    where = serializers.CharField()
    file = serializers.CharField()
    sheet = serializers.CharField(required=False, allow_null=True)
    table = serializers.CharField(required=False, allow_null=True)
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    text = serializers.CharField(required=False, help_text="The offending cell's text")


class PlanResult(serializers.Serializer):
    """What ``import_plan --format json`` prints (``tasks.services.plans.result_json``)."""

    campaign = serializers.CharField(allow_null=True)
    actions = serializers.IntegerField()
    items = serializers.IntegerField()
    assignments = serializers.IntegerField()
    by_unit_kind = serializers.DictField(
        child=serializers.IntegerField(), help_text="Active assignments per unit kind (station, subbureau …)"
    )
    created = serializers.DictField(child=serializers.IntegerField())
    updated = serializers.DictField(child=serializers.IntegerField())
    withdrawn = serializers.DictField(child=serializers.IntegerField(), required=False)
    published = serializers.BooleanField(required=False)
    dry_run = serializers.BooleanField(required=False)
    changes = serializers.ListField(child=serializers.CharField(), required=False)
    errors = PlanLocation(many=True)


class PlanJobSerializer(serializers.Serializer):
    """An uploaded plan's background job: poll ``status_url`` until ``pending`` is false; ``result`` is
    then the import's JSON (as ``import_plan --format json``), with its ``errors`` if it failed."""

    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The file's name as uploaded")
    status = serializers.ChoiceField(choices=PlanUploadStatus.choices)
    job = serializers.ChoiceField(choices=PlanJob.choices)
    state = serializers.ChoiceField(choices=PlanJobState.choices, help_text="The job: queued, running, done, failed")
    pending = serializers.BooleanField()
    progress = serializers.IntegerField(min_value=0, max_value=100)
    message = serializers.CharField(help_text="The stage while running; why it failed")
    status_url = serializers.CharField()
    result = PlanResult(allow_null=True, help_text="None while the job waits or runs")


def plan_job(upload: PlanUpload) -> dict:
    progress, message = job_progress(upload)
    return {
        "id": upload.pk,
        "name": upload.name,
        "status": upload.status,
        "job": upload.job,
        "state": upload.job_state,
        "pending": upload.is_pending,
        "progress": progress,
        "message": message,
        "status_url": reverse("plan-job", args=[upload.pk]),
        "result": None if upload.is_pending or not upload.result else upload.result,
    }


class PlanJobView(APIView):
    """An uploaded plan's job, as ``POST /api/v1/plans/`` answered it with a 202: HQ over the campaign's
    owner sees it, anyone else a 404."""

    @extend_schema(responses={200: PlanJobSerializer, 404: refusal(404, "No such upload the caller manages")})
    def get(self, request, pk: int):
        upload = PlanUpload.objects.visible_to(request.user, scope.Action.MANAGE).filter(pk=pk).first()
        if upload is None:
            raise Http404
        return Response(plan_job(upload))


class PlanView(APIView):
    """HQ's plan import: a dry run by default (what would be created, updated, withdrawn, and every
    problem located), the import with ``dry_run=false``. A file with problems is a 400 with them, and
    nothing is written.

    Where a worker is configured (``PLAN_UPLOADS_IN_BACKGROUND``) the file is kept and the dry run or
    the import runs as a background job: the answer is a 202 with the job (``PlanJob``), whose
    ``status_url`` says when it has ended and then holds the result (a plan's problems as its
    ``errors``). Without a worker (the embedded default) it runs in the request: 200 (dry run) or 201
    with the result, 400 with the problems."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": PlanRequest},
        responses={
            200: PlanResult,
            201: PlanResult,
            202: PlanJobSerializer,
            # the fields at fault, a file refused for its type (detail), or the plan's problems: PlanResult
            # with its ``errors``, located
            400: refusal(400, "The request or the file is refused: a plan's problems come as PlanResult's errors"),
            404: refusal(404, "The campaign named (draft or published, seen by the caller)"),
        },
    )
    def post(self, request):
        body = PlanRequest(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        user = request.user
        campaign = owner = None
        if d["campaign"] is not None:
            campaign = campaigns_for(user).select_related("owner").filter(pk=d["campaign"]).first()
            if campaign is None:
                raise Http404
            if not scope.can(user, scope.Action.MANAGE, campaign.owner):
                raise Forbidden("只有行动牵头的领导小组办公室可以导入方案")
        else:
            if not scope.scope_for(user, scope.Action.MANAGE):
                raise Forbidden("只有领导小组办公室可以导入方案")
            missing = {k: ["新建行动应填写此项"] for k in ("name", "start", "end", "owner") if not d[k]}
            if missing:
                return Response(missing, status=400)
            found, _unknown = scope.units_by_code(user, scope.Action.MANAGE, [d["owner"]])
            owner = found.get(d["owner"])
            if owner is None:
                return Response({"owner": ["不在您的职责范围内"]}, status=400)
        if in_background():
            upload = upload_plan(
                upload=d["file"],
                by=user,
                campaign=campaign,
                name=d["name"],
                code=d["code"],
                start=d["start"],
                end=d["end"],
                owner=owner,
                background=True,
                dry_run=d["dry_run"],
                publish=d["publish"],
            )
            return Response(plan_job(upload), status=202)
        checked = check_data_file(d["file"])
        with tempfile.NamedTemporaryFile(suffix=checked.extension) as spool:
            for chunk in d["file"].chunks():
                spool.write(chunk)
            spool.flush()
            try:
                result = run_plan(
                    path=spool.name,
                    display_name=checked.name,
                    by=user,
                    campaign=campaign,
                    name=d["name"],
                    code=d["code"],
                    start=d["start"],
                    end=d["end"],
                    owner=owner,
                    publish=d["publish"],
                    dry_run=d["dry_run"],
                )
            except FileProblems as exc:
                return Response(result_json(problems=exc.problems), status=400)
        return Response(result_json(result), status=200 if d["dry_run"] else 201)
