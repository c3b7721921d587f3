"""REST endpoints of directives (督办事项): ``/api/v1/directives/``.

The list and every object start from ``directives.queries.directives_for`` (out of sight, and a secret
directive outside its named units and HQ over the owner: 404); writes go through ``directives.services``,
whose unit steps are the assignments' own services.
"""

from __future__ import annotations

from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts import scope
from accounts.models import Unit, User
from ops.openapi import refusal
from tasks.api import (
    EventSerializer,
    ExtensionRequestSerializer,
    ProgressReportSerializer,
    amount_field,
)
from tasks.models import DeadlineKind
from tasks.queries import campaigns_for, is_overdue
from utilities.errors import Forbidden, Refused
from utilities.paging import BoundedPagination
from utilities.params import ApiDateField, ScopedFilterSet
from utilities.viewsets import WHOLE, DetailAnswers

from . import queries, services
from .models import Directive, Level, Outcome, Rating, Source


class WorkSerializer(serializers.Serializer):
    """One named unit's assignment of the directive: where the unit acts (``/api/v1/assignments/{id}/``)."""

    id = serializers.IntegerField()
    unit = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.name")
    role = serializers.CharField()
    status = serializers.CharField()
    due_date = serializers.DateField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()

    def get_overdue(self, obj) -> bool:
        return is_overdue(obj)


class DirectiveSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="item.code", read_only=True)
    title = serializers.CharField(source="item.title", read_only=True)
    campaign = serializers.IntegerField(source="item.campaign_id", read_only=True)
    secret = serializers.BooleanField(source="item.secret", read_only=True)
    due_date = serializers.DateField(source="item.due_date", read_only=True)
    feedback_weekday = serializers.SerializerMethodField(help_text="每周反馈 by this weekday (1 = Monday), else null")
    lead_units = serializers.CharField(source="item.lead_text", read_only=True)
    cooperating_units = serializers.CharField(source="item.cooperating_text", read_only=True)

    class Meta:
        model = Directive
        fields = [
            "id",
            "code",
            "title",
            "campaign",
            "source",
            "level",
            "status",
            "secret",
            "is_case",
            "case_no",
            "due_date",
            "feedback_weekday",
            "lead_units",
            "cooperating_units",
            "leader_name",
            "outcome",
            "rating",
            "created_at",
        ]

    def get_feedback_weekday(self, obj) -> int | None:
        item = obj.item
        return (item.cadence_weekday or 5) if item.deadline_kind == DeadlineKind.WEEKLY else None


class DirectiveDetailSerializer(DirectiveSerializer):
    work = serializers.SerializerMethodField(help_text="The named units' assignments the caller sees")

    class Meta(DirectiveSerializer.Meta):
        fields = [
            *DirectiveSerializer.Meta.fields,
            "text",
            "instruction",
            "instructed_by",
            "instructed_on",
            "case_type",
            "crime_date",
            "outcome_on",
            "rating_note",
            "rated_at",
            "closed_at",
            "work",
        ]

    @extend_schema_field(WorkSerializer(many=True))
    def get_work(self, obj):
        return WorkSerializer(queries.work(obj, self.context["request"].user), many=True).data


class DirectiveCreateSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    title = serializers.CharField(max_length=2000)
    source = serializers.ChoiceField(choices=Source.choices)
    lead_units = serializers.ListField(child=serializers.CharField(max_length=32), min_length=1, max_length=200)
    cooperating_units = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list, max_length=500
    )
    due_date = ApiDateField(help_text="办结时限; a major case's solve-by date (限期侦破)")
    feedback_weekday = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=7, help_text="每周反馈: 1 = Monday … 7"
    )
    text = serializers.CharField(required=False, allow_blank=True, default="")
    instruction = serializers.CharField(required=False, allow_blank=True, default="", help_text="批示原文")
    instructed_by = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    instructed_on = ApiDateField(required=False, allow_null=True, default=None)
    level = serializers.ChoiceField(choices=Level.choices, required=False, default="")
    leader = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**63 - 1, help_text="包案领导 user id"
    )
    leader_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    secret = serializers.BooleanField(required=False, default=False)
    is_case = serializers.BooleanField(required=False, default=False)
    case_no = serializers.CharField(required=False, allow_blank=True, default="", max_length=60)
    case_type = serializers.CharField(required=False, allow_blank=True, default="", max_length=60)
    crime_date = ApiDateField(required=False, allow_null=True, default=None)
    hand_down = serializers.BooleanField(required=False, default=False, help_text="交办 at once")


class UnitChoice(serializers.Serializer):
    unit = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=32, help_text="The named unit acted for (code)"
    )


class FeedbackSerializer(UnitChoice):
    text = serializers.CharField(required=False, allow_blank=True, default="")
    value = amount_field(required=False, allow_null=True)


class FeedbackDoc(FeedbackSerializer):
    files = serializers.ListField(child=serializers.FileField(), required=False, help_text="Attachments")


class CompleteSerializer(UnitChoice):
    report = serializers.CharField(help_text="办结报告")


class ReviewSerializer(UnitChoice):
    decision = serializers.ChoiceField(choices=[("accept", "销号"), ("return", "退回")])
    reason = serializers.CharField(required=False, allow_blank=True, default="", help_text="Required to return")
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False, default="")
    outcome_on = ApiDateField(required=False, allow_null=True, default=None)


class RateSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=[c for c in Rating.choices if c[0]])
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ExtensionAsk(UnitChoice):
    requested_due = ApiDateField()
    reason = serializers.CharField()


class DirectiveFilter(ScopedFilterSet):
    unit = filters.CharFilter(method="filter_unit", label="单位编码：该单位及其全部下级承办的")
    overdue = filters.BooleanFilter(method="filter_overdue", label="牵头单位已逾期")
    secret = filters.BooleanFilter(field_name="item__secret")
    campaign = filters.NumberFilter(field_name="item__campaign", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = Directive
        fields = ["source", "level", "status", "is_case", "leader"]

    def filter_unit(self, queryset, name, value):
        root = Unit.objects.filter(code=value).first()
        return queries.under_unit(queryset, root) if root else queryset.none()

    def filter_overdue(self, queryset, name, value):
        return queries.overdue(queryset, value)


class DirectiveViewSet(DetailAnswers, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    pagination_class = BoundedPagination
    filterset_class = DirectiveFilter
    search_fields = ["item__code", "item__title", "case_no"]
    list_serializer_class = DirectiveSerializer
    detail_serializer_class = DirectiveDetailSerializer

    def get_queryset(self):
        return queries.directives_for(self.request.user).order_by("-created_at", "-id")

    def _unit(self, code: str) -> Unit | None:
        if not code:
            return None
        found, unknown = scope.units_by_code(self.request.user, scope.Action.VIEW, [code])
        if unknown:
            raise Refused(f"单位不存在或不在您的范围内：{code}")
        return found[code]

    @extend_schema(
        request=DirectiveCreateSerializer,
        responses={201: DirectiveDetailSerializer, 403: refusal(403, "Not HQ over the campaign's owner")},
    )
    def create(self, request):
        """立项 (and, with ``hand_down``, 交办): HQ over the campaign's owner; the units by code."""
        body = DirectiveCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        campaign = campaigns_for(request.user).filter(pk=data["campaign"]).select_related("owner").first()
        if campaign is None:
            raise Http404
        if not scope.can(request.user, scope.Action.MANAGE, campaign.owner):
            raise Forbidden("只有行动牵头的领导小组办公室可以办理督办事项")
        codes = list(dict.fromkeys([*data["lead_units"], *data["cooperating_units"]]))
        units, unknown = scope.units_by_code(request.user, scope.Action.MANAGE, codes)
        if unknown:
            raise Refused(f"单位不存在或不在您的范围内：{'、'.join(unknown)}")
        leader = None
        if data["leader"]:
            leader = scope.restrict(User.objects.filter(pk=data["leader"], is_active=True), request.user).first()
            if leader is None:
                raise Refused("包案领导不存在或不在您的范围内")
        case = None
        if data["is_case"] or data["source"] == Source.CASE:
            case = services.Case(case_no=data["case_no"], case_type=data["case_type"], crime_date=data["crime_date"])
        directive = services.register_directive(
            campaign=campaign,
            by=request.user,
            title=data["title"],
            source=data["source"],
            lead_units=[units[c] for c in data["lead_units"]],
            cooperating_units=[units[c] for c in data["cooperating_units"]],
            due_date=data["due_date"],
            feedback_weekday=data["feedback_weekday"],
            text=data["text"],
            instruction=data["instruction"],
            instructed_by=data["instructed_by"],
            instructed_on=data["instructed_on"],
            level=data["level"],
            leader=leader,
            leader_name=data["leader_name"],
            secret=data["secret"],
            case=case,
        )
        if data["hand_down"]:
            directive = services.hand_down(directive=directive, by=request.user)
        return self.detail_response(directive, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: DirectiveDetailSerializer})
    @action(detail=True, methods=["post"], url_path="hand-down", **WHOLE)
    def hand_down(self, request, pk=None):
        """交办: the named units get their assignments (HQ over the campaign's owner; once)."""
        return self.detail_response(services.hand_down(directive=self.get_object(), by=request.user))

    @extend_schema(request=UnitChoice, responses={200: DirectiveDetailSerializer})
    @action(detail=True, methods=["post"], **WHOLE)
    def acknowledge(self, request, pk=None):
        """签收 for the caller's unit (``unit`` when it acts for several named units)."""
        directive = self.get_object()
        body = UnitChoice(data=request.data)
        body.is_valid(raise_exception=True)
        services.acknowledge_directive(
            directive=directive, by=request.user, unit=self._unit(body.validated_data["unit"])
        )
        return self.detail_response(directive)

    @extend_schema(request=FeedbackDoc, responses={201: ProgressReportSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser], **WHOLE)
    def feedback(self, request, pk=None):
        """反馈: dated progress with attachments (multipart, files in "files") on the unit's assignment."""
        directive = self.get_object()
        body = FeedbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        report = services.give_feedback(
            directive=directive,
            by=request.user,
            text=data["text"],
            value=data.get("value"),
            files=request.FILES.getlist("files"),
            unit=self._unit(data["unit"]),
        )
        return Response(ProgressReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CompleteSerializer, responses={200: DirectiveDetailSerializer})
    @action(detail=True, methods=["post"], **WHOLE)
    def complete(self, request, pk=None):
        """办结报告: the lead unit submits its work for HQ's review, the report as the submit's note."""
        directive = self.get_object()
        body = CompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.complete_directive(
            directive=directive, by=request.user, report=data["report"], unit=self._unit(data["unit"])
        )
        return self.detail_response(directive)

    @extend_schema(request=ReviewSerializer, responses={200: DirectiveDetailSerializer})
    @action(detail=True, methods=["post"], **WHOLE)
    def review(self, request, pk=None):
        """审核: accept (销号: the directive closes with its lead's accepted work) or return with the reason."""
        directive = self.get_object()
        body = ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        done = services.review_directive(
            directive=directive,
            by=request.user,
            accept=data["decision"] == "accept",
            reason=data["reason"],
            unit=self._unit(data["unit"]),
            outcome=data["outcome"],
            outcome_on=data["outcome_on"],
        )
        return self.detail_response(done)

    @extend_schema(request=RateSerializer, responses={200: DirectiveDetailSerializer})
    @action(detail=True, methods=["post"], **WHOLE)
    def rate(self, request, pk=None):
        """评价 a closed directive: satisfied, fairly satisfied, not satisfied; and a note."""
        directive = self.get_object()
        body = RateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return self.detail_response(
            services.rate_directive(directive=directive, by=request.user, rating=data["rating"], note=data["note"])
        )

    @extend_schema(methods=["GET"], responses=ExtensionRequestSerializer(many=True))
    @extend_schema(methods=["POST"], request=ExtensionAsk, responses={201: ExtensionRequestSerializer})
    @action(detail=True, methods=["get", "post"], **WHOLE)
    def extensions(self, request, pk=None):
        """The extension requests of the directive's assignments the caller sees; POST asks for the unit's."""
        directive = self.get_object()
        if request.method == "GET":
            rows = services.extension_requests(directive, request.user)
            return Response(ExtensionRequestSerializer(rows, many=True).data)
        body = ExtensionAsk(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        made = services.ask_extension(
            directive=directive,
            by=request.user,
            due=data["requested_due"],
            reason=data["reason"],
            unit=self._unit(data["unit"]),
        )
        return Response(ExtensionRequestSerializer(made).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"], **WHOLE)
    def timeline(self, request, pk=None):
        """The directive's history: its own events, its item's and those of the assignments the caller sees."""
        directive = self.get_object()
        events = queries.timeline(directive, queries.work(directive, request.user))
        return Response(EventSerializer(events, many=True).data)
