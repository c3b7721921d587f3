"""REST endpoints for documents under ``/api/v1/documents/``: the list (per campaign, kind, state), one
document, drafting (a bulletin for a period, a notice's document, a free one), the clerk's edit of a
draft (PATCH), the sign-off actions (submit, check, sign, return) and the issued files (pdf, docx), served
from storage. Reads through ``documents.queries`` (view over the issuing unit, else 404); writes through
``documents.services``, whose refusals ``ops.handlers`` answers."""

from __future__ import annotations

from datetime import date

from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action as rest_action
from rest_framework.response import Response

from accounts import scope
from accounts.scope import Action
from boards.bulletin import parse_key
from inspections.models import Notice
from ops.openapi import download_responses, refusal
from tasks.queries import campaigns_for
from utilities.errors import Refused
from utilities.params import ApiDateField, ScopedFilterSet
from utilities.viewsets import WHOLE, DetailAnswers

from . import services as svc
from .distribution_api import DistributionMixin
from .models import Document, DocumentKind, DocumentState
from .queries import CONTENT_TYPES, bulletin_period, documents_for, file_response, steps


class StepSerializer(serializers.Serializer):
    action = serializers.CharField()
    by = serializers.CharField(source="by.username")
    at = serializers.DateTimeField()
    note = serializers.CharField()


class DocumentSerializer(serializers.ModelSerializer):
    issuing_unit = serializers.CharField(source="issuing_unit.code", read_only=True)
    subject_unit = serializers.CharField(source="subject_unit.code", read_only=True)
    signed_by = serializers.CharField(source="signed_by.username", read_only=True, default=None, allow_null=True)
    actions = serializers.SerializerMethodField(help_text="What the caller may do now")
    steps = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField(help_text="The issued PDF and DOCX")

    class Meta:
        model = Document
        fields = [
            "id",
            "campaign",
            "kind",
            "state",
            "issuing_unit",
            "subject_unit",
            "notice",
            "period_start",
            "period_end",
            "round",
            "title",
            "recipients",
            "cc",
            "attachments",
            "opening",
            "requirements",
            "next_steps",
            "generated",
            "generated_at",
            "version",
            "returned_note",
            "checked_at",
            "signed_by",
            "signer_name",
            "signed_at",
            "number",
            "issue_no",
            "issued_at",
            "content",
            "text_hash",
            "actions",
            "steps",
            "files",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, obj) -> list[str]:
        return svc.allowed_actions(self.context["request"].user, obj)

    @extend_schema_field(StepSerializer(many=True))
    def get_steps(self, obj) -> list[dict]:
        return StepSerializer(steps(obj), many=True).data

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_files(self, obj) -> dict[str, str]:
        if not obj.is_issued:
            return {}
        return {ext: f"/api/v1/documents/{obj.pk}/{ext}/" for ext in CONTENT_TYPES}


class DocumentListSerializer(DocumentSerializer):
    class Meta(DocumentSerializer.Meta):
        fields = [f for f in DocumentSerializer.Meta.fields if f not in ("generated", "content", "steps", "actions")]
        read_only_fields = fields


class DocumentRequest(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    campaign = serializers.IntegerField(required=False, help_text="A bulletin's or a free document's campaign")
    unit = serializers.CharField(required=False, help_text="The issuing unit's code (a bulletin covers its subtree)")
    period = serializers.CharField(
        required=False,
        default="",
        max_length=30,
        help_text='A bulletin\'s period as the bulletin page names it: "w<yyyy-mm-dd>" (the week holding that day), '
        '"r<round id>", "m<yyyy-mm>" (a month), "c<yyyy-mm-dd>" (the campaign so far to that day) or '
        '"d<yyyy-mm-dd>..<yyyy-mm-dd>" (a range); the last whole week if left out',
    )
    notice = serializers.IntegerField(required=False, help_text="A rectification notice's document: the notice")
    title = serializers.CharField(required=False, default="")

    def validate_period(self, value: str) -> str:
        if value:
            try:
                _kind, parsed = parse_key(value)
            except ValueError:
                raise serializers.ValidationError(
                    "not a period: w<day>, r<id>, m<yyyy-mm>, c<day> or d<day>..<day>"
                ) from None
            for day in parsed if isinstance(parsed, tuple) else [parsed]:
                if isinstance(day, date):
                    ApiDateField().run_validators(day)  # within the years the API takes
        return value


STATE_REFUSED = refusal(400, "The document's state does not allow the step (e.g. submitting what is being signed)")


class DraftUpdate(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1)
    title = serializers.CharField(required=False, max_length=200)
    recipients = serializers.CharField(required=False, allow_blank=True)
    cc = serializers.CharField(required=False, allow_blank=True)
    attachments = serializers.CharField(required=False, allow_blank=True)
    opening = serializers.CharField(required=False, allow_blank=True)
    requirements = serializers.CharField(required=False, allow_blank=True)
    next_steps = serializers.CharField(required=False, allow_blank=True)


class ReturnRequest(serializers.Serializer):
    note = serializers.CharField()


class DocumentFilter(ScopedFilterSet):
    class Meta:
        model = Document
        fields = ["campaign", "kind", "state"]

    kind = filters.ChoiceFilter(choices=DocumentKind.choices)
    state = filters.ChoiceFilter(choices=DocumentState.choices)


class DocumentViewSet(DetailAnswers, DistributionMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Documents (公文) whose issuing unit the caller sees: drafts, their sign-off, the issued files."""

    filterset_class = DocumentFilter
    search_fields = ["number", "title", "recipients", "cc", "opening", "requirements", "next_steps"]
    list_serializer_class = DocumentListSerializer
    detail_serializer_class = DocumentSerializer

    def get_queryset(self):
        return documents_for(self.request.user)

    @extend_schema(
        request=DocumentRequest,
        responses={201: DocumentSerializer, 404: refusal(404, "The campaign, unit or notice named")},
    )
    def create(self, request, *args, **kwargs):
        body = DocumentRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data, user = body.validated_data, request.user
        if data["kind"] == DocumentKind.RECTIFICATION:
            if not data.get("notice"):
                raise Refused("请指定整改通知书")
            notice = get_object_or_404(
                scope.restrict(Notice.objects.select_related("campaign", "issuing_unit", "unit"), user),
                pk=data["notice"],
            )
            document = svc.draft_notice_document(by=user, notice=notice)
            return self.detail_response(document, 201)
        if not data.get("campaign") or not data.get("unit"):
            raise Refused("请指定专项行动和发文单位")
        campaign = get_object_or_404(campaigns_for(user), pk=data["campaign"])
        unit = get_object_or_404(scope.units(user, Action.VIEW), code=data["unit"])
        if data["kind"] == DocumentKind.BULLETIN:
            period = bulletin_period(campaign, data["period"])
            document = svc.draft_bulletin(by=user, campaign=campaign, unit=unit, period=period)
        else:
            document = svc.draft_document(by=user, campaign=campaign, kind=data["kind"], unit=unit, title=data["title"])
        return self.detail_response(document, 201)

    @extend_schema(request=DraftUpdate, responses={200: DocumentSerializer, 409: refusal(409)})
    def partial_update(self, request, *args, **kwargs):
        body = DraftUpdate(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        version = fields.pop("version", None)
        document = svc.update_draft(document=self.get_object(), by=request.user, version=version, **fields)
        return self.detail_response(document)

    def _step(self, call, **extra) -> Response:
        return self.detail_response(call(document=self.get_object(), by=self.request.user, **extra))

    @extend_schema(request=None, responses={200: DocumentSerializer, 400: STATE_REFUSED})
    @rest_action(detail=True, methods=["post"], **WHOLE)
    def refresh(self, request, pk=None):
        """The generated part made again (a draft only)."""
        return self._step(svc.refresh_draft)

    @extend_schema(request=None, responses={200: DocumentSerializer, 400: STATE_REFUSED})
    @rest_action(detail=True, methods=["post"], **WHOLE)
    def submit(self, request, pk=None):
        """送核: the draft goes to the check."""
        return self._step(svc.submit_document)

    @extend_schema(request=None, responses={200: DocumentSerializer, 400: STATE_REFUSED})
    @rest_action(detail=True, methods=["post"], **WHOLE)
    def check(self, request, pk=None):
        """核稿: checked, to be signed."""
        return self._step(svc.check_document)

    @extend_schema(request=None, responses={200: DocumentSerializer, 400: STATE_REFUSED})
    @rest_action(detail=True, methods=["post"], **WHOLE)
    def sign(self, request, pk=None):
        """签发: signed and issued under its number; its content and files frozen."""
        return self._step(svc.sign_document)

    @extend_schema(request=ReturnRequest, responses={200: DocumentSerializer, 400: STATE_REFUSED})
    @rest_action(detail=True, methods=["post"], url_path="return", **WHOLE)
    def send_back(self, request, pk=None):
        """退回: back to the draft with a note."""
        body = ReturnRequest(data=request.data)
        body.is_valid(raise_exception=True)
        return self._step(svc.return_document, note=body.validated_data["note"])

    @extend_schema(responses=download_responses(["application/pdf"]))
    @rest_action(detail=True, methods=["get"], **WHOLE)
    def pdf(self, request, pk=None):
        """The issued PDF as stored (404 for a draft)."""
        return file_response(self.get_object(), "pdf")

    @extend_schema(responses=download_responses([CONTENT_TYPES["docx"]]))
    @rest_action(detail=True, methods=["get"], **WHOLE)
    def docx(self, request, pk=None):
        """The issued DOCX as stored (404 for a draft)."""
        return file_response(self.get_object(), "docx")
