"""REST endpoints of a document's distribution (docs/documents.md, "Distribution"), mixed into
``documents.api.DocumentViewSet``: ``{id}/recipients/`` (GET the receipts; PUT a draft's recipients),
``{id}/acknowledge/`` (签收), ``{id}/chase/`` (催办), ``{id}/sent/`` (an outside body's copy sent)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action as rest_action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts import scope
from accounts.scope import Action
from ops.openapi import refusal
from utilities.params import ApiDateField

from . import distribution as dist
from .models import Document, DocumentRecipient, RecipientRole


class RecipientSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.code", read_only=True, default=None, allow_null=True)
    name = serializers.CharField(read_only=True, help_text="The unit's name, or the outside body's")
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.get_full_name", read_only=True, default=None, allow_null=True, help_text="签收: who"
    )
    sent_as = serializers.ChoiceField(
        source="role", choices=RecipientRole.choices, read_only=True, help_text="主送 or 抄送"
    )

    class Meta:
        model = DocumentRecipient
        fields = [
            "id",
            "unit",
            "body",
            "name",
            "sent_as",
            "channel",
            "sent_on",
            "acknowledged_at",
            "acknowledged_by",
            "chased",
            "chased_at",
        ]
        read_only_fields = fields


class ReceiptsSerializer(serializers.Serializer):
    units = serializers.IntegerField(help_text="Recipient units")
    acknowledged = serializers.IntegerField(help_text="Of them, acknowledged (签收)")
    waiting = serializers.IntegerField(help_text="Of them, not yet")
    recipients = RecipientSerializer(many=True)
    actions = serializers.ListField(child=serializers.CharField(), help_text="acknowledge, chase, record_sent, edit")


class BodyRow(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    sent_as = serializers.ChoiceField(
        choices=RecipientRole.choices, default=RecipientRole.MAIN, help_text="主送 or 抄送"
    )


class RecipientsUpdate(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1)
    units = serializers.ListField(child=serializers.CharField(), required=False, default=list, help_text="主送 codes")
    copies = serializers.ListField(child=serializers.CharField(), required=False, default=list, help_text="抄送 codes")
    bodies = BodyRow(many=True, required=False, default=list, help_text="Outside bodies")


class AcknowledgeRequest(serializers.Serializer):
    unit = serializers.CharField(required=False, help_text="The recipient unit's code, when one may sign for several")


class ChaseRequest(serializers.Serializer):
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)
    units = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Only these units' codes (else all not acknowledged)"
    )


class ChaseAnswer(serializers.Serializer):
    chased = serializers.IntegerField(help_text="Units told")
    already = serializers.IntegerField(help_text="Units left out: chased today already")


class SentRequest(serializers.Serializer):
    recipient = serializers.IntegerField(help_text="The outside body's recipient row")
    channel = serializers.CharField(max_length=40, help_text="机要交换, 传真, 电子公文系统 …")
    sent_on = ApiDateField()


def receipts_answer(request, document: Document) -> Response:
    rows = list(dist.recipients(document))
    units = [r for r in rows if r.unit_id]
    done = sum(1 for r in units if r.acknowledged_at)
    data = {
        "units": len(units),
        "acknowledged": done,
        "waiting": len(units) - done,
        "recipients": RecipientSerializer(rows, many=True).data,
        "actions": dist.actions(request.user, document),
    }
    return Response(data)


class DistributionMixin:
    @extend_schema(responses={200: ReceiptsSerializer})
    @rest_action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def recipients(self, request, pk=None):
        """Where the document goes and who has acknowledged it (签收): counts and each recipient."""
        return receipts_answer(request, self.get_object())

    @recipients.mapping.put
    @extend_schema(request=RecipientsUpdate, responses={200: ReceiptsSerializer, 409: refusal(409)})
    def set_recipients(self, request, pk=None):
        """A draft's recipients replaced (units 主送/抄送 by code, outside bodies); the 主送/抄送 lines follow."""
        document = self.get_object()
        body = RecipientsUpdate(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        units = _units(request.user, data["units"])
        copies = _units(request.user, data["copies"])
        bodies = [(b["name"], b["sent_as"]) for b in data["bodies"]]
        dist.set_recipients(
            document=document, by=request.user, units=units, copies=copies, bodies=bodies, version=data.get("version")
        )
        return receipts_answer(request, document)

    @extend_schema(request=AcknowledgeRequest, responses={200: RecipientSerializer, 403: refusal(403)})
    @rest_action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def acknowledge(self, request, pk=None):
        """签收 for the caller's recipient unit; already acknowledged: as it is."""
        body = AcknowledgeRequest(data=request.data)
        body.is_valid(raise_exception=True)
        code = body.validated_data.get("unit")
        unit = get_object_or_404(scope.units(request.user, Action.VIEW), code=code) if code else None
        row = dist.acknowledge(document=self.get_object(), by=request.user, unit=unit)
        return Response(RecipientSerializer(row).data)

    @extend_schema(request=ChaseRequest, responses={200: ChaseAnswer, 400: refusal(400), 409: refusal(409)})
    @rest_action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def chase(self, request, pk=None):
        """催办 the recipient units that have not acknowledged (once a day each)."""
        document = self.get_object()
        body = ChaseRequest(data=request.data)
        body.is_valid(raise_exception=True)
        codes = body.validated_data.get("units")
        ids = None
        if codes is not None:
            ids = list(document.distribution.filter(unit__code__in=codes).values_list("unit_id", flat=True))
        done = dist.chase(document=document, by=request.user, note=body.validated_data["note"], units=ids)
        return Response({"chased": done.chased, "already": done.already})

    @extend_schema(request=SentRequest, responses={200: RecipientSerializer, 400: refusal(400)})
    @rest_action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def sent(self, request, pk=None):
        """An outside body's copy recorded as sent (双通报): the channel and the date."""
        body = SentRequest(data=request.data)
        body.is_valid(raise_exception=True)
        row = dist.record_sent(document=self.get_object(), by=request.user, **body.validated_data)
        return Response(RecipientSerializer(row).data)


def _units(user, codes: list[str]):
    found, missing = scope.units_by_code(user, Action.VIEW, codes) if codes else ({}, [])
    if missing:
        raise NotFound({"detail": "单位不存在或不在您的范围内", "units": missing})
    return [found[c] for c in dict.fromkeys(codes)]
