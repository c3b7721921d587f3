"""``/api/v1/document-rules/``: who checks and signs a kind of document of a campaign (``documents.rules``).
Listed (``?campaign=``, ``kind``, ``step``) by whoever sees the campaign; added (POST) and removed (DELETE)
by HQ over its owner. A campaign not seen is a 404; seen without the right, a 403."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from accounts import scope
from accounts.models import Role, User
from accounts.scope import Action
from ops.openapi import refusal
from tasks.queries import campaigns_for

from . import rules
from .models import DocumentKind, SignOffRule, SignOffStep


class RuleSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = SignOffRule
        fields = ["id", "campaign", "kind", "step", "user", "role"]
        read_only_fields = fields


class RuleRequest(serializers.Serializer):
    campaign = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    step = serializers.ChoiceField(choices=SignOffStep.choices, help_text="check (核稿) or sign (签发)")
    user = serializers.CharField(required=False, default="", allow_blank=True, help_text="A username, or…")
    role = serializers.ChoiceField(
        choices=Role.choices, required=False, default="", allow_blank=True, help_text="…a role over the issuing unit"
    )


class RuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """核稿、签发人: who checks and signs each kind of document of a campaign."""

    serializer_class = RuleSerializer
    filterset_fields = ["campaign", "kind", "step"]

    def get_queryset(self):
        return rules.rules_for(self.request.user)

    @extend_schema(request=RuleRequest, responses={201: RuleSerializer, 403: refusal(403), 404: refusal(404)})
    def create(self, request):
        body = RuleRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        campaign = campaigns_for(request.user).select_related("owner").filter(pk=data["campaign"]).first()
        if campaign is None:
            raise Http404
        user = None
        if data["user"]:
            rules._refuse(request.user, campaign)  # before naming anyone: nothing learnt without the right
            user = scope.restrict(User.objects.all(), request.user, Action.VIEW).filter(username=data["user"]).first()
            if user is None:
                raise rules.RuleError("没有这个用户")
        rule = rules.add_rule(
            by=request.user, campaign=campaign, kind=data["kind"], step=data["step"], user=user, role=data["role"]
        )
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 403: refusal(403)})
    def destroy(self, request, pk=None):
        rules.remove_rule(by=request.user, rule=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
