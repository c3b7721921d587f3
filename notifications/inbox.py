"""The in-app inbox: a user's own delivered messages. Nobody reads another user's inbox."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from .models import Channel, Message, MessageStatus


def inbox(user) -> QuerySet[Message]:
    """The messages delivered to ``user``'s inbox, newest first (superseded ones are left out)."""
    return (
        Message.objects.filter(recipient=user, channel=Channel.INBOX, status=MessageStatus.SENT)
        .select_related("reminder", "reminder__unit")
        .order_by("-sent_at", "-id")
    )


def unread(user) -> QuerySet[Message]:
    return Message.objects.filter(recipient=user, channel=Channel.INBOX, status=MessageStatus.SENT, read_at=None)


def mark_read(messages: QuerySet[Message]) -> int:
    return messages.filter(read_at=None).update(read_at=timezone.now())


def link(message: Message) -> str | None:
    """The page of what the message is about."""
    if message.reminder.subject_type == "assignment":
        return reverse("web:assignment", args=[message.reminder.subject_id])
    return None
