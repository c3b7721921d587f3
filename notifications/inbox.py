"""The in-app inbox: a user's own delivered messages. Nobody reads another user's inbox."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from .models import Channel, EventSubject, Message, MessageStatus, Subject


def inbox(user) -> QuerySet[Message]:
    """The messages delivered to ``user``'s inbox, newest first (superseded ones are left out)."""
    return (
        Message.objects.filter(recipient=user, channel=Channel.INBOX, status=MessageStatus.SENT)
        .select_related("reminder", "unit", "digest", "event")
        .order_by("-sent_at", "-id")
    )


def unread(user) -> QuerySet[Message]:
    return Message.objects.filter(recipient=user, channel=Channel.INBOX, status=MessageStatus.SENT, read_at=None)


def mark_read(*, messages: QuerySet[Message]) -> int:
    """Mark ``messages`` read now (those not read yet); the caller passes the user's own, from ``inbox``."""
    return messages.filter(read_at=None).update(read_at=timezone.now())


PAGES = {
    Subject.ASSIGNMENT: "web:tasks-assignment",
    Subject.CHECKIN: "web:tasks-assignment",
    Subject.FINDING: "web:inspections-finding",
    Subject.HOTSPOT: "web:inspections-hotspot",
    Subject.ROUND: "web:stats-round-report",
    Subject.NOTICE_UNACKED: "web:inspections-notice",
    Subject.LETTER_UNACKED: "web:inspections-letter",
    Subject.DOC_UNACKED: "web:documents-document",
}


EVENT_PAGES = {
    EventSubject.ASSIGNMENT: "web:tasks-assignment",
    EventSubject.NOTICE: "web:inspections-notice",
    EventSubject.FINDING: "web:inspections-finding",
    EventSubject.LETTER: "web:inspections-letter",
    EventSubject.DOCUMENT: "web:documents-document",
}


def event_link(message: Message) -> str:
    """What an event is about: the work given (my tasks, of the campaign), the assignment, the notice or
    the finding; several items coalesced into one message (``events.together``) open my tasks."""
    e = message.event
    if e.subject_type == EventSubject.CAMPAIGN or (e.count > 1 and e.subject_type == EventSubject.ASSIGNMENT):
        return reverse("web:tasks-my") + f"?campaign={e.campaign_id}"
    return reverse(EVENT_PAGES[e.subject_type], args=[e.subject_id])


def link(message: Message) -> str | None:
    """The page of what the message is about (a digest is read where it is); for a round, which many
    units share, the page of the message's unit."""
    if message.event_id:
        return event_link(message)
    if not message.reminder_id:
        return None
    r = message.reminder
    if r.subject_type == Subject.UNACKED:  # a unit's items of a campaign: its list, where each is acknowledged
        return reverse("web:tasks-my") + f"?campaign={r.subject_id}"
    url = reverse(PAGES[r.subject_type], args=[r.subject_id])
    if r.subject_type == Subject.ROUND and message.unit_id:
        url += f"?unit={message.unit_id}"
    return url
