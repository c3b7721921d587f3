"""Demo progress: a campaign part-way done, so the boards and rankings have something to show.

Each assignment gets a fate from a fixed random draw, weighted per unit so units differ (a few lag
behind): accepted on time, accepted late, submitted, in progress, or untouched. The history is written
as the workflow writes it (``assignment.submit`` / ``assignment.accept`` events), dated back to the day
the work was done, and marked as demo data in the event's source.
"""

from __future__ import annotations

import random
import zlib
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleGrant
from audit import services as audit

from .models import Assignment, AssignmentStatus, Campaign

S = AssignmentStatus
UNIT_DILIGENCE = (0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.35)
WALKTHROUGH = {"33031101"}  # 城关派出所, whose lead (lead_chengguan) the README's walkthrough signs in as
SOURCE = "演示数据"


def _at(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(16, 30)))


def seed_progress(campaign: Campaign, *, seed: int = 2026) -> int:
    """Move the campaign's untouched assignments along; returns how many moved. Run once."""
    if Assignment.objects.filter(campaign=campaign).exclude(status=S.PENDING).exists():
        return 0
    today = timezone.localdate()
    leads = dict(RoleGrant.objects.filter(role=Role.UNIT_LEAD).values_list("unit_id", "user_id"))
    hq = RoleGrant.objects.filter(role=Role.HQ, unit=campaign.owner).values_list("user_id", flat=True).first()
    moved: dict[str, list[Assignment]] = {s: [] for s in S.values}
    events = []
    for a in Assignment.objects.filter(campaign=campaign, is_active=True).select_related("unit", "item"):
        # one draw per assignment, whatever order the rows come in: the same demo every time
        draw = random.Random(f"{seed}:{a.unit.code}:{a.item.code}")
        # most units do well, about one in eight lags; the walkthrough's station keeps open work to show
        base = 0.5 if a.unit.code in WALKTHROUGH else UNIT_DILIGENCE[zlib.crc32(a.unit.code.encode()) % 8]
        roll = draw.random()
        due_passed = a.due_date < today
        if roll < base * (0.85 if due_passed else 0.4):
            late = draw.random() > base
            a.submitted_on = a.due_date + timedelta(days=draw.randint(1, 9) if late else -draw.randint(0, 6))
            a.submitted_on = min(max(a.submitted_on, campaign.start), today)
            a.status = S.ACCEPTED if draw.random() < 0.9 else S.SUBMITTED
        elif roll < base:
            a.status = S.IN_PROGRESS
        else:
            continue
        a.version += 1
        a.updated_at = _at(a.submitted_on or min(today, a.due_date))
        moved[a.status].append(a)
        lead = leads.get(a.unit_id)
        if a.submitted_on:
            events.append(_event(a, "assignment.submit", lead, [S.IN_PROGRESS, S.SUBMITTED], a.submitted_on))
        if a.status == S.ACCEPTED:
            accepted = min(a.submitted_on + timedelta(days=1), today)
            events.append(_event(a, "assignment.accept", hq, [S.SUBMITTED, S.ACCEPTED], accepted))
    with transaction.atomic():
        rows = [a for batch in moved.values() for a in batch]
        Assignment.objects.bulk_update(rows, ["status", "submitted_on", "version", "updated_at"], batch_size=500)
        audit.record(events)
    return len(rows)


def _event(a: Assignment, verb: str, actor_id, status, day):
    e = audit.event(a, verb, changes={"status": status}, unit=a.unit, source=SOURCE)
    e.actor_id = actor_id
    e.at = _at(day)
    return e
