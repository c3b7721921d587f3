"""The inbox over REST: ``/api/v1/inbox/`` lists the caller's own messages; mark one or all read. And the
body of a campaign's reminder rules (``/api/v1/campaigns/{id}/reminder-policy/``, on ``tasks.api``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .inbox import inbox, link, mark_read
from .models import Message
from .policies import LADDER_AUDIENCES, MAX_DAYS, MAX_RECEIPT_HOURS, MAX_RUNGS


class RungSerializer(serializers.Serializer):
    day = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, help_text="From this day overdue, daily")
    audience = serializers.ChoiceField(choices=[str(a) for a in LADDER_AUDIENCES])


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$", "example": "22:00"})
class ClockField(serializers.TimeField):
    """A time of day as offices write it, 22:00 (the schema says so: OpenAPI's "time" wants seconds)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class PolicySerializer(serializers.Serializer):
    """A campaign's reminder rules. Answered: those in force, ``own`` false when they are the default's.
    Put: the campaign's own, a field left out keeps its value in force."""

    own = serializers.BooleanField(read_only=True, help_text="The campaign's own rules (else the default's)")
    before_days = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DAYS), max_length=10, required=False
    )
    on_the_day = serializers.BooleanField(required=False)
    ladder = serializers.ListField(child=RungSerializer(), max_length=MAX_RUNGS, required=False)
    behind_weekday = serializers.IntegerField(
        min_value=0, max_value=7, required=False, help_text="1 = Monday, 0 = never"
    )
    receipt_hours = serializers.IntegerField(min_value=0, max_value=MAX_RECEIPT_HOURS, required=False)
    quiet_start = ClockField(required=False)
    quiet_end = ClockField(required=False)


class MessageSerializer(serializers.ModelSerializer):
    # unit and the subject's fields are null for a digest, which is about no one thing
    kind = serializers.SerializerMethodField(
        help_text="due_soon, due_today, overdue, behind; digest_daily/weekly; or event_<kind> (event_returned …)"
    )
    colour = serializers.CharField(read_only=True)
    unit = serializers.CharField(source="unit.code", read_only=True, default=None, allow_null=True)
    subject_type = serializers.CharField(source="reminder.subject_type", read_only=True, default=None, allow_null=True)
    subject_id = serializers.IntegerField(source="reminder.subject_id", read_only=True, default=None, allow_null=True)
    due_date = serializers.DateField(source="reminder.due_date", read_only=True, default=None, allow_null=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "kind",
            "colour",
            "unit",
            "subject_type",
            "subject_id",
            "due_date",
            "subject",
            "body",
            "sent_at",
            "read_at",
            "url",
        ]

    def get_kind(self, obj) -> str:
        if obj.event_id:  # the subject fields are a reminder's: an event's link is ``url``
            return f"event_{obj.event.kind}"
        return obj.reminder.kind if obj.reminder_id else f"digest_{obj.digest.kind}"

    def get_url(self, obj) -> str | None:
        return link(obj)


Marked = inline_serializer("Marked", {"marked": serializers.IntegerField()})


class InboxViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's in-app reminders (督办提醒), newest first; ``?unread=true`` for the unread ones."""

    serializer_class = MessageSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Message.objects.none()
        qs = inbox(self.request.user)
        if self.action == "list" and self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at=None)
        return qs

    @extend_schema(request=None, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        message = self.get_object()
        mark_read(messages=Message.objects.filter(pk=message.pk))
        message.refresh_from_db(fields=["read_at"])
        return Response(MessageSerializer(message).data)

    @extend_schema(request=None, responses=Marked)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": mark_read(messages=inbox(request.user))})
