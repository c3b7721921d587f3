"""REST endpoints of 约谈 under ``/api/v1/summons/``: the list (per campaign, state, unit subtree), one summons
with its commitments and their directives, the summons made from an issued bulletin (``POST``: the bulletin
document and a laggard it named), ``hold/`` (the record and the commitments) and ``cancel/``. Reads through
``documents.summons.summonses_for`` (view over the unit summoned, else 404); writes through its services."""

from __future__ import annotations

from datetime import datetime, time

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action

from accounts import scope
from accounts.api import SUBTREE, UnitRowsFilter
from ops.openapi import refusal
from utilities.errors import Refused
from utilities.params import ApiDateField
from utilities.viewsets import WHOLE, DetailAnswers

from . import summons as sm
from .models import Summons, SummonsState
from .queries import documents_for


class CommitmentSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    text = serializers.CharField()
    deadline = serializers.DateField()
    directive = serializers.IntegerField(source="directive_id", allow_null=True)
    directive_code = serializers.CharField(source="directive.item.code", default="", allow_null=True)
    directive_status = serializers.CharField(source="directive.status", default="", allow_null=True)


class SummonsSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    bulletin_number = serializers.CharField(source="bulletin.number", read_only=True)

    class Meta:
        model = Summons
        fields = [
            "id",
            "campaign",
            "unit",
            "unit_name",
            "bulletin",
            "bulletin_number",
            "notice",
            "reasons",
            "as_of",
            "scheduled_at",
            "place",
            "attendance",
            "state",
            "held_on",
            "created_at",
        ]
        read_only_fields = fields


class SummonsDetailSerializer(SummonsSerializer):
    commitments = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(help_text="What the caller may do now: hold, cancel")

    class Meta(SummonsSerializer.Meta):
        fields = [
            *SummonsSerializer.Meta.fields,
            "attendees",
            "chaired_by",
            "minutes",
            "recorded_at",
            "cancelled_note",
            "commitments",
            "actions",
        ]
        read_only_fields = fields

    @extend_schema_field(CommitmentSerializer(many=True))
    def get_commitments(self, obj) -> list[dict]:
        return CommitmentSerializer(sm.commitments(obj), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, obj) -> list[str]:
        return sm.allowed_actions(self.context["request"].user, obj)


class SummonsRequest(serializers.Serializer):
    bulletin = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The issued bulletin (document id)")
    unit = serializers.CharField(max_length=32, help_text="The laggard it named, by code")
    scheduled_on = ApiDateField(help_text="The 约谈's day")
    scheduled_time = serializers.TimeField(required=False, default=time(9), help_text="Its hour (9:00 if left out)")
    place = serializers.CharField(max_length=200)
    attendance = serializers.CharField(
        max_length=200, required=False, default=sm.ATTENDANCE, help_text="Who must attend (主要负责人)"
    )


class CommitmentRequest(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    deadline = ApiDateField()


class HoldRequest(serializers.Serializer):
    held_on = ApiDateField()
    attendees = serializers.CharField()
    chaired_by = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    minutes = serializers.CharField(help_text="What was said")
    commitments = CommitmentRequest(many=True, required=False, default=list, help_text="Each becomes a directive")


class CancelRequest(serializers.Serializer):
    note = serializers.CharField()


class SummonsFilter(UnitRowsFilter):
    state = filters.ChoiceFilter(choices=SummonsState.choices)
    unit = filters.CharFilter(method="filter_unit", label=SUBTREE)

    class Meta:
        model = Summons
        fields = ["campaign", "bulletin", "state"]


class SummonsViewSet(DetailAnswers, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """约谈: laggards an issued bulletin named, summoned; the record and the commitments."""

    filterset_class = SummonsFilter
    search_fields = ["unit__name", "reasons"]
    list_serializer_class = SummonsSerializer
    detail_serializer_class = SummonsDetailSerializer

    def get_queryset(self):
        return sm.summonses_for(self.request.user)

    @extend_schema(
        request=SummonsRequest,
        responses={201: SummonsDetailSerializer, 404: refusal(404, "The bulletin named")},
    )
    def create(self, request, *args, **kwargs):
        """约谈 a laggard the bulletin named: the summons and its 约谈通知 drafted (HQ over the bulletin's issuing unit)."""
        body = SummonsRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data, user = body.validated_data, request.user
        bulletin = get_object_or_404(documents_for(user), pk=data["bulletin"])
        found, unknown = scope.units_by_code(user, scope.Action.VIEW, [data["unit"]])
        if unknown:
            raise Refused(f"单位不存在或不在您的范围内：{data['unit']}")
        when = timezone.make_aware(datetime.combine(data["scheduled_on"], data["scheduled_time"]))
        (made,) = sm.summon_units(
            by=user,
            bulletin=bulletin,
            units=[found[data["unit"]]],
            scheduled_at=when,
            place=data["place"],
            attendance=data["attendance"],
        )
        return self.detail_response(made, status.HTTP_201_CREATED)

    @extend_schema(request=HoldRequest, responses={200: SummonsDetailSerializer})
    @action(detail=True, methods=["post"], **WHOLE)
    def hold(self, request, pk=None):
        """The 约谈 held: its record and commitments, each registered and handed down to the unit as a directive."""
        summons = self.get_object()
        body = HoldRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        done = sm.hold_summons(
            summons=summons,
            by=request.user,
            held_on=data["held_on"],
            attendees=data["attendees"],
            chaired_by=data["chaired_by"],
            minutes=data["minutes"],
            commitments=[sm.Commitment(c["text"], c["deadline"]) for c in data["commitments"]],
        )
        return self.detail_response(done)

    @extend_schema(request=CancelRequest, responses={200: SummonsDetailSerializer})
    @action(detail=True, methods=["post"], **WHOLE)
    def cancel(self, request, pk=None):
        """The 约谈 called off, with the reason."""
        summons = self.get_object()
        body = CancelRequest(data=request.data)
        body.is_valid(raise_exception=True)
        return self.detail_response(
            sm.cancel_summons(summons=summons, by=request.user, note=body.validated_data["note"])
        )
