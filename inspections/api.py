"""REST endpoints for supervision: inspections, findings (with photos), notices, hotspots, counts.

Same rules as the rest of the API: every queryset starts from ``accounts.scope`` (out of scope is a
404), writes go through ``inspections.services``, and their refusals are answered by ``ops.handlers``.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action as rest_action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import scope
from accounts.api import MINE, SUBTREE, UnitRowsFilter
from accounts.models import Unit, User
from accounts.scope import Action
from audit.services import history
from ops.openapi import IMAGE_AND_PDF_TYPES, download_responses, refusal
from tasks.models import Campaign, Item
from tasks.queries import campaigns_for
from utilities.errors import Refused
from utilities.params import ApiDateField, ScopedFilterSet
from utilities.uploads import attachment
from utilities.viewsets import WHOLE, DetailAnswers

from . import letters
from . import services as svc
from .models import (
    Answer,
    Finding,
    FindingStatus,
    Hotspot,
    HotspotCriterion,
    Inspection,
    InspectionKind,
    LetterFile,
    LetterStatus,
    Notice,
    Photo,
    RiskLetter,
)
from .queries import inspections_for


def _units_in_scope(user, codes: list[str], action: Action) -> list[Unit]:
    """The units of ``codes`` in the user's ``action`` scope; refused (400) naming those not there."""
    found, unknown = scope.units_by_code(user, action, codes)
    if unknown:
        raise Refused(f"单位不存在或不在您的职责范围内：{'、'.join(unknown)}")
    return [found[c] for c in codes]


def _unit_in_scope(user, code: str) -> Unit:
    return _units_in_scope(user, [code], Action.VIEW)[0]


def _optional(qs, pk):
    """The object ``pk`` of ``qs`` (the caller's scoped rows), None when no id was given; 404 if not there."""
    return get_object_or_404(qs, pk=pk) if pk else None


def _campaign(user, pk) -> Campaign:
    return get_object_or_404(campaigns_for(user), pk=pk)


def acknowledged_filter() -> filters.BooleanFilter:
    """``?acknowledged=``: 签收 (the notices' and the risk letters' lists)."""
    return filters.BooleanFilter(field_name="acknowledged_at", lookup_expr="isnull", exclude=True, label="已签收")


class PhotoSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = ["id", "name", "content_type", "size", "uploaded_at", "answer", "download"]

    def get_download(self, obj) -> str:
        return f"/api/v1/finding-photos/{obj.pk}/download/"


class AnswerSerializer(serializers.ModelSerializer):
    answered_by = serializers.CharField(source="answered_by.get_full_name", read_only=True)
    verified_by = serializers.CharField(
        source="verified_by.get_full_name",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Null until verified",
    )

    class Meta:
        model = Answer
        fields = [
            "round",
            "text",
            "answered_by",
            "answered_at",
            "accepted",
            "verified_by",
            "verified_at",
            "verdict_note",
        ]


class FindingSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    notice_number = serializers.CharField(
        source="notice.number",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Null until ordered by a notice",
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "campaign",
            "inspection",
            "unit",
            "unit_name",
            "item",
            "hotspot",
            "category",
            "severity",
            "place",
            "description",
            "status",
            "status_display",
            "is_overdue",
            "deadline",
            "rounds",
            "notice",
            "notice_number",
            "found_at",
            "closed_at",
            "version",
        ]


class FindingDetailSerializer(FindingSerializer):
    photos = PhotoSerializer(many=True, read_only=True)
    answers = AnswerSerializer(many=True, read_only=True)

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "photos", "answers"]


class FindingCreateSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(required=False, allow_null=True)
    inspection = serializers.IntegerField(required=False, allow_null=True)
    unit = serializers.CharField(help_text="Unit code of the unit responsible")
    item = serializers.IntegerField(required=False, allow_null=True)
    hotspot = serializers.IntegerField(required=False, allow_null=True)
    category = serializers.ChoiceField(choices=Finding._meta.get_field("category").choices, default="order")
    severity = serializers.ChoiceField(choices=Finding._meta.get_field("severity").choices, default="general")
    place = serializers.CharField(max_length=200)
    description = serializers.CharField()
    photos = serializers.ListField(child=serializers.FileField(), required=False, help_text="Images or PDF")


class AnswerRequest(serializers.Serializer):
    text = serializers.CharField()
    files = serializers.ListField(child=serializers.FileField(), required=False, help_text="Images or PDF")


class VerifyRequest(serializers.Serializer):
    accept = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")
    new_deadline = ApiDateField(required=False, allow_null=True, default=None)


class FindingFilter(UnitRowsFilter):
    # distinct=False: status is the row's own column; DISTINCT over every column of the finding, its
    # unit and its notice made HQ's list hash all 8,000 open findings of a province for one page.
    status = filters.MultipleChoiceFilter(choices=FindingStatus.choices, distinct=False)
    unit = filters.CharFilter(method="filter_unit", label=SUBTREE)
    overdue = filters.BooleanFilter(method="filter_overdue", label="整改逾期")
    mine = filters.BooleanFilter(method="filter_mine", label=MINE)

    class Meta:
        model = Finding
        fields = ["campaign", "inspection", "notice", "hotspot", "severity", "category", "status"]


class FindingViewSet(DetailAnswers, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Findings (发现问题/隐患) of the units in scope; POST logs one (multipart, photos in "photos")."""

    filterset_class = FindingFilter
    search_fields = ["place", "description", "unit__name"]
    ordering_fields = ["found_at", "deadline", "status"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    list_serializer_class = FindingSerializer
    detail_serializer_class = FindingDetailSerializer

    def get_queryset(self):
        qs = Finding.objects.select_related("unit", "notice")
        if self.action == "retrieve":
            qs = qs.prefetch_related("photos", "answers__answered_by", "answers__verified_by")
        return scope.restrict(qs, self.request.user).order_by("-found_at", "-id")

    @extend_schema(
        request=FindingCreateSerializer,
        responses={201: FindingDetailSerializer, 404: refusal(404, "The campaign, inspection, item or hotspot named")},
    )
    def create(self, request, *args, **kwargs):
        body = FindingCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user
        unit = _unit_in_scope(user, data["unit"])
        inspection = _optional(inspections_for(user), data.get("inspection"))
        campaign = _optional(campaigns_for(user), data.get("campaign"))
        item = _optional(Item.objects.filter(campaign__in=campaigns_for(user)), data.get("item"))
        hotspot = _optional(scope.restrict(Hotspot.objects.all(), user), data.get("hotspot"))
        finding = svc.log_finding(
            by=user,
            unit=unit,
            place=data["place"],
            description=data["description"],
            campaign=campaign,
            inspection=inspection,
            category=data["category"],
            severity=data["severity"],
            item=item,
            hotspot=hotspot,
            photos=request.FILES.getlist("photos"),
        )
        return self.detail_response(finding, 201)

    @extend_schema(request=AnswerRequest, responses={201: AnswerSerializer})
    @rest_action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """The unit's rectification answer (整改情况) with evidence (multipart, files in "files")."""
        finding = self.get_object()
        body = AnswerRequest(data=request.data)
        body.is_valid(raise_exception=True)
        answer = svc.answer_finding(
            finding=finding, by=request.user, text=body.validated_data["text"], files=request.FILES.getlist("files")
        )
        return Response(AnswerSerializer(answer).data, status=201)

    @extend_schema(request=VerifyRequest, responses=FindingDetailSerializer)
    @rest_action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """The inspector's verdict on the latest answer: closed, or back to the unit with a new deadline."""
        finding = self.get_object()
        body = VerifyRequest(data=request.data)
        body.is_valid(raise_exception=True)
        done = svc.verify_finding(finding=finding, by=request.user, **body.validated_data)
        return self.detail_response(done)


class PhotoViewSet(viewsets.ReadOnlyModelViewSet):
    """Photos of findings and of their rectification; served only through the finding's scope."""

    serializer_class = PhotoSerializer

    def get_queryset(self):
        return Photo.objects.visible_to(self.request.user)

    @extend_schema(responses=download_responses(IMAGE_AND_PDF_TYPES))
    @rest_action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        return attachment(self.get_object())


class NoticeSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    issuing_unit = serializers.CharField(source="issuing_unit.code", read_only=True)
    issued_by = serializers.CharField(source="issued_by.get_full_name", read_only=True)
    findings = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.get_full_name", read_only=True, default=None, allow_null=True, help_text="签收: who"
    )

    class Meta:
        model = Notice
        fields = [
            "id",
            "campaign",
            "number",
            "issuing_unit",
            "unit",
            "unit_name",
            "inspection",
            "requirements",
            "deadline",
            "status",
            "issued_by",
            "issued_at",
            "findings",
            "acknowledged_at",
            "acknowledged_by",
        ]


class NoticeFilter(ScopedFilterSet):
    acknowledged = acknowledged_filter()

    class Meta:
        model = Notice
        fields = ["campaign", "status", "inspection"]


class NoticeRequest(serializers.Serializer):
    unit = serializers.CharField(help_text="Unit code of the addressee")
    findings = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    deadline = ApiDateField()
    requirements = serializers.CharField()
    inspection = serializers.IntegerField(required=False, allow_null=True)


class NoticeViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Rectification notices (责令整改通知书) to units in scope; POST issues one under the next number."""

    filterset_class = NoticeFilter
    search_fields = ["number", "unit__name"]
    serializer_class = NoticeSerializer

    def get_queryset(self):
        qs = Notice.objects.select_related("unit", "issuing_unit", "issued_by", "acknowledged_by")
        qs = qs.prefetch_related("findings")
        return scope.restrict(qs, self.request.user).order_by("-issued_at", "-id")

    @extend_schema(request=NoticeRequest, responses={201: NoticeSerializer, 404: refusal(404, "The inspection named")})
    def create(self, request, *args, **kwargs):
        body = NoticeRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user
        unit = _unit_in_scope(user, data["unit"])
        findings = list(scope.restrict(Finding.objects.all(), user).filter(pk__in=data["findings"]))
        if len(findings) != len(set(data["findings"])):
            raise Refused("所列问题不存在或不在您的职责范围内")
        inspection = _optional(inspections_for(user), data.get("inspection"))
        notice = svc.issue_notice(
            by=user,
            unit=unit,
            findings=findings,
            deadline=data["deadline"],
            requirements=data["requirements"],
            inspection=inspection,
        )
        return Response(NoticeSerializer(self.get_queryset().get(pk=notice.pk)).data, status=201)

    @extend_schema(request=None, responses={200: NoticeSerializer})
    @rest_action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def acknowledge(self, request, pk=None):
        """签收: the addressee has received the notice (report rights over it); again, nothing changes."""
        notice = svc.acknowledge_notice(notice=self.get_object(), by=request.user)
        return Response(NoticeSerializer(self.get_queryset().get(pk=notice.pk)).data)


# --- Risk letters (风险提示函) ---------------------------------------------------------------------


class LetterEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    verb = serializers.CharField()
    actor = serializers.CharField(source="actor.get_full_name", default="", allow_null=True)
    changes = serializers.JSONField()


class LetterFileSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = LetterFile
        fields = ["id", "name", "content_type", "size", "round", "uploaded_at", "download"]

    def get_download(self, obj) -> str:
        return f"/api/v1/risk-letter-files/{obj.pk}/download/"


def _name_of(field: str, help_text: str):
    return serializers.CharField(
        source=f"{field}.get_full_name", read_only=True, default=None, allow_null=True, help_text=help_text
    )


class RiskLetterSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    issuing_unit = serializers.CharField(source="issuing_unit.code", read_only=True)
    issued_by = serializers.CharField(source="issued_by.get_full_name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True, help_text="Past its reply-by date without an answer")
    acknowledged_by = _name_of("acknowledged_by", "签收: who; null until acknowledged")
    answered_by = _name_of("answered_by", "Null until answered")
    closed_by = _name_of("closed_by", "Null until closed")

    class Meta:
        model = RiskLetter
        fields = [
            "id",
            "campaign",
            "number",
            "issuing_unit",
            "unit",
            "unit_name",
            "title",
            "risk",
            "source",
            "inspection",
            "finding",
            "requirements",
            "reply_by",
            "status",
            "status_display",
            "is_overdue",
            "issued_by",
            "issued_at",
            "acknowledged_at",
            "acknowledged_by",
            "answer",
            "answered_at",
            "answered_by",
            "rounds",
            "returned_reason",
            "closed_at",
            "closed_by",
            "version",
        ]


class RiskLetterDetailSerializer(RiskLetterSerializer):
    files = LetterFileSerializer(many=True, read_only=True)

    class Meta(RiskLetterSerializer.Meta):
        fields = [*RiskLetterSerializer.Meta.fields, "files"]


class RiskLetterFilter(UnitRowsFilter):
    status = filters.MultipleChoiceFilter(choices=LetterStatus.choices, distinct=False)
    unit = filters.CharFilter(method="filter_unit", label=SUBTREE)
    overdue = filters.BooleanFilter(method="filter_overdue", label="逾期未反馈")
    acknowledged = acknowledged_filter()
    mine = filters.BooleanFilter(method="filter_mine", label=MINE)

    class Meta:
        model = RiskLetter
        fields = ["campaign", "status", "source", "inspection"]


class RiskLetterRequest(serializers.Serializer):
    unit = serializers.CharField(help_text="Unit code of the addressee")
    title = serializers.CharField(max_length=200)
    risk = serializers.CharField(help_text="The risk found")
    requirements = serializers.CharField(help_text="The measures required (防范要求)")
    reply_by = ApiDateField()
    campaign = serializers.IntegerField(required=False, allow_null=True)
    inspection = serializers.IntegerField(required=False, allow_null=True, help_text="Source: an inspection")
    finding = serializers.IntegerField(required=False, allow_null=True, help_text="Source: a finding")


class LetterAnswerRequest(serializers.Serializer):
    text = serializers.CharField(help_text="The measures taken")
    files = serializers.ListField(child=serializers.FileField(), required=False, help_text="Images or PDF")


class LetterCloseRequest(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class LetterReturnRequest(serializers.Serializer):
    reason = serializers.CharField()
    reply_by = ApiDateField(required=False, allow_null=True, default=None, help_text="A new reply-by date")


class RiskLetterViewSet(DetailAnswers, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Risk letters (风险提示函) to units in scope; POST issues one under the next letter number."""

    filterset_class = RiskLetterFilter
    search_fields = ["number", "title", "unit__name"]
    ordering_fields = ["issued_at", "reply_by", "status"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    list_serializer_class = RiskLetterSerializer
    detail_serializer_class = RiskLetterDetailSerializer

    def get_queryset(self):
        qs = RiskLetter.objects.select_related(
            "unit", "issuing_unit", "issued_by", "acknowledged_by", "answered_by", "closed_by"
        )
        if self.action != "list":
            qs = qs.prefetch_related("files")
        return scope.restrict(qs, self.request.user).order_by("-issued_at", "-id")

    @extend_schema(
        request=RiskLetterRequest,
        responses={201: RiskLetterDetailSerializer, 404: refusal(404, "The campaign, inspection or finding named")},
    )
    def create(self, request, *args, **kwargs):
        body = RiskLetterRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user
        campaign = _optional(campaigns_for(user), data.get("campaign"))  # a campaign not seen: 404 first
        unit = _unit_in_scope(user, data["unit"])
        letter = letters.issue_letter(
            by=user,
            unit=unit,
            title=data["title"],
            risk=data["risk"],
            requirements=data["requirements"],
            reply_by=data["reply_by"],
            campaign=campaign,
            inspection=_optional(inspections_for(user), data.get("inspection")),
            finding=_optional(scope.restrict(Finding.objects.all(), user), data.get("finding")),
        )
        return self.detail_response(letter, 201)

    @extend_schema(request=None, responses={200: RiskLetterDetailSerializer})
    @rest_action(detail=True, methods=["post"], **WHOLE)
    def acknowledge(self, request, pk=None):
        """签收: the addressee has received the letter (report rights over it); again, nothing changes."""
        return self.detail_response(letters.acknowledge_letter(letter=self.get_object(), by=request.user))

    @extend_schema(request=LetterAnswerRequest, responses={200: RiskLetterDetailSerializer})
    @rest_action(detail=True, methods=["post"], **WHOLE)
    def answer(self, request, pk=None):
        """The unit's answer: the measures taken, with evidence (multipart, files in "files")."""
        letter = self.get_object()
        body = LetterAnswerRequest(data=request.data)
        body.is_valid(raise_exception=True)
        done = letters.answer_letter(
            letter=letter, by=request.user, text=body.validated_data["text"], files=request.FILES.getlist("files")
        )
        return self.detail_response(done)

    @extend_schema(request=LetterCloseRequest, responses={200: RiskLetterDetailSerializer})
    @rest_action(detail=True, methods=["post"], **WHOLE)
    def close(self, request, pk=None):
        """The issuer's side accepts the answer: closed (办结)."""
        letter = self.get_object()
        body = LetterCloseRequest(data=request.data)
        body.is_valid(raise_exception=True)
        return self.detail_response(letters.close_letter(letter=letter, by=request.user, **body.validated_data))

    @extend_schema(request=LetterReturnRequest, responses={200: RiskLetterDetailSerializer})
    @rest_action(detail=True, methods=["post"], url_path="return", **WHOLE)
    def return_answer(self, request, pk=None):
        """The answer is not enough: back to the unit with the reason (and a new reply-by date)."""
        letter = self.get_object()
        body = LetterReturnRequest(data=request.data)
        body.is_valid(raise_exception=True)
        return self.detail_response(letters.return_letter(letter=letter, by=request.user, **body.validated_data))

    @extend_schema(responses=LetterEventSerializer(many=True))
    @rest_action(detail=True, methods=["get"], **WHOLE)
    def timeline(self, request, pk=None):
        """Every recorded event of the letter, oldest first: who, when, what changed."""
        return Response(LetterEventSerializer(history(self.get_object()), many=True).data)


class LetterFileViewSet(viewsets.GenericViewSet):
    """A risk letter's attachments, served only through the letter's scope."""

    serializer_class = LetterFileSerializer

    def get_queryset(self):
        return LetterFile.objects.visible_to(self.request.user)

    @extend_schema(responses=download_responses(IMAGE_AND_PDF_TYPES))
    @rest_action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        return attachment(self.get_object())


class InspectionSerializer(serializers.ModelSerializer):
    units = serializers.SerializerMethodField(help_text="Codes of the units visited that the caller may see")
    team = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")
    issuing_unit = serializers.CharField(source="issuing_unit.code", read_only=True)

    class Meta:
        model = Inspection
        fields = [
            "id",
            "campaign",
            "kind",
            "status",
            "issuing_unit",
            "units",
            "team",
            "items",
            "hotspot",
            "planned_on",
            "started_at",
            "completed_at",
            "summary",
            "passed",
            "version",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_units(self, obj) -> list[str]:
        # a tour of several branches is seen through one of them: the others are not named
        reach = scope.scope_for(self.context["request"].user, Action.VIEW)
        return [u.code for u in obj.units.all() if reach.contains(u)]


class InspectionRequest(serializers.Serializer):
    campaign = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=InspectionKind.choices, default=InspectionKind.ROUTINE)
    units = serializers.ListField(child=serializers.CharField(), required=False, default=list, help_text="Unit codes")
    team = serializers.ListField(child=serializers.CharField(), required=False, default=list, help_text="Usernames")
    items = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    hotspot = serializers.IntegerField(required=False, allow_null=True)
    planned_on = ApiDateField()


class JudgementSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    passed = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CompleteRequest(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    verdicts = JudgementSerializer(many=True, required=False, default=list)
    extend_to = ApiDateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class InspectionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Inspections that visited a unit in scope; POST plans one, then start and complete it."""

    serializer_class = InspectionSerializer
    filterset_fields = ["campaign", "status", "kind", "hotspot"]

    def get_queryset(self):
        qs = (
            inspections_for(self.request.user).select_related("issuing_unit").prefetch_related("units", "team", "items")
        )
        return qs.order_by("-planned_on", "-id")

    @extend_schema(
        request=InspectionRequest,
        responses={201: InspectionSerializer, 404: refusal(404, "The campaign or hotspot named")},
    )
    def create(self, request, *args, **kwargs):
        body = InspectionRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user
        campaign = _campaign(user, data["campaign"])
        units = _units_in_scope(user, data["units"], Action.VIEW)
        # people out of the planner's scope answer as names nobody has: the refusal tells nothing of them
        team = list(scope.restrict(User.objects.filter(username__in=data["team"], is_active=True), user))
        if len(team) != len(set(data["team"])):
            raise Refused("检查组成员不存在或不在您的职责范围内")
        items = list(Item.objects.filter(campaign=campaign, pk__in=data["items"]))
        hotspot = _optional(scope.restrict(Hotspot.objects.all(), user), data.get("hotspot"))
        made = svc.plan_inspection(
            by=user,
            campaign=campaign,
            units=units,
            planned_on=data["planned_on"],
            kind=data["kind"],
            team=team,
            items=items,
            hotspot=hotspot,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=made.pk)).data, status=201)

    @extend_schema(
        request=None, responses={200: InspectionSerializer, 400: refusal(400, "Not planned any more: started or done")}
    )
    @rest_action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        done = svc.start_inspection(inspection=self.get_object(), by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=done.pk)).data)

    @extend_schema(request=CompleteRequest, responses=InspectionSerializer)
    @rest_action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Close the inspection; a joint acceptance gives a verdict per criterion of its hotspot."""
        inspection = self.get_object()
        body = CompleteRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        verdicts = [svc.Judgement(v["criterion"], v["passed"], v["note"]) for v in data["verdicts"]]
        done = svc.complete_inspection(
            inspection=inspection,
            by=request.user,
            summary=data["summary"],
            verdicts=verdicts,
            extend_to=data["extend_to"],
            reason=data["reason"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=done.pk)).data)


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = HotspotCriterion
        fields = ["id", "seq", "text"]


class HotspotSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    criteria = CriterionSerializer(many=True, read_only=True)
    missed_inspections = serializers.SerializerMethodField()

    class Meta:
        model = Hotspot
        fields = [
            "id",
            "campaign",
            "name",
            "area",
            "problems",
            "unit",
            "unit_name",
            "responsible_name",
            "listed_on",
            "deadline",
            "inspect_every_days",
            "status",
            "delisted_on",
            "extensions",
            "criteria",
            "missed_inspections",
        ]

    def get_missed_inspections(self, obj) -> int:
        return svc.missed_inspections(obj)


class HotspotRequest(serializers.Serializer):
    campaign = serializers.IntegerField()
    unit = serializers.CharField(help_text="Unit code of the responsible unit")
    name = serializers.CharField(max_length=200)
    area = serializers.CharField(required=False, allow_blank=True, default="")
    problems = serializers.CharField()
    responsible_name = serializers.CharField(max_length=50)
    listed_on = ApiDateField(required=False, allow_null=True, default=None)
    deadline = ApiDateField()
    inspect_every_days = serializers.IntegerField(required=False, default=7)
    criteria = serializers.ListField(child=serializers.CharField(), min_length=1)


class HotspotViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Listed hotspots (挂牌整治) of units in scope, with missed weekly inspections; POST lists one."""

    serializer_class = HotspotSerializer
    filterset_fields = ["campaign", "status"]

    def get_queryset(self):
        qs = Hotspot.objects.select_related("unit").prefetch_related("criteria", svc.COMPLETED_VISITS)
        return scope.restrict(qs, self.request.user).order_by("status", "deadline", "id")

    @extend_schema(request=HotspotRequest, responses={201: HotspotSerializer, 404: refusal(404, "The campaign named")})
    def create(self, request, *args, **kwargs):
        body = HotspotRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user
        campaign = _campaign(user, data["campaign"])
        unit = _unit_in_scope(user, data["unit"])
        made = svc.list_hotspot(
            by=user,
            campaign=campaign,
            unit=unit,
            name=data["name"],
            area=data["area"],
            problems=data["problems"],
            responsible_name=data["responsible_name"],
            listed_on=data["listed_on"],
            deadline=data["deadline"],
            inspect_every_days=data["inspect_every_days"],
            criteria=data["criteria"],
        )
        return Response(HotspotSerializer(self.get_queryset().get(pk=made.pk)).data, status=201)


CountsSerializer = inline_serializer("InspectionCounts", {name: serializers.IntegerField() for name in svc.COUNT_NAMES})


class CountsQuery(serializers.Serializer):
    # Parsed rather than read raw: a NUL in ?unit= (PostgreSQL refuses it in a query) or ?campaign=² (a digit
    # to str.isdigit, not to int) made a 500; now they are 400s naming the parameter.
    campaign = serializers.IntegerField()
    unit = serializers.CharField(required=False, allow_blank=True)


CAMPAIGN_WANTED = "请用 campaign 参数指定专项行动（编号）"


class InspectionCountsView(APIView):
    """检查单位X个、发现问题X处、整改X处 …: the figures of a campaign over the user's scope."""

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", int, required=True),
            OpenApiParameter("unit", str, description="Unit code: that unit and everything under it"),
        ],
        responses={200: CountsSerializer, 404: refusal(404, "The campaign or unit named")},
    )
    def get(self, request):
        query = CountsQuery(data=request.query_params)
        if not query.is_valid():
            # the campaign's refusal as it always read (it names the parameter); the unit's located by DRF
            return Response({"detail": CAMPAIGN_WANTED} if "campaign" in query.errors else query.errors, status=400)
        campaign = _campaign(request.user, query.validated_data["campaign"])
        unit = None
        if code := query.validated_data.get("unit"):
            unit = get_object_or_404(scope.units(request.user), code=code)
        return Response(svc.counts(campaign, request.user, unit))
