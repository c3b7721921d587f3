"""Issue 22.4's figure: a bulletin issued to 1,650 units (docs/documents.md, "Distribution").

In one transaction rolled back at the end (nothing stays but nothing is needed either): a bureau with
``--units`` units under it made set-based (one lead each, as ``bench_reminders``), a published campaign,
HQ's bulletin drafted for the last week, all the units named as its recipients (主送), submitted, checked;
then the signature timed — 签发 = issue: the number, the frozen content, the PDF and DOCX, the recipient
rows fixed, one event per unit and one inbox message per lead (and mail for those with an address) —
with its query count; then a 催办 of every unit and one 签收, and a week on the sweep's 未签收 reminders of the
units that have not acknowledged (one each, to its leads). Prints the figures as JSON.

    manage.py bench_distribution [--units 1650]
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, RoleGrant, Unit, UnitKind, User
from boards.bulletin import default_period
from documents import distribution as dist
from documents import services as svc
from notifications import sweep
from notifications.models import Event, Message, Subject
from tasks.models import Campaign, CampaignStatus

GOAL_S = 2.0
PREFIX = "benchdoc_"


class Rollback(Exception):
    pass


def build(n: int) -> tuple[Unit, list[Unit], dict[str, User], Campaign]:
    root = Unit.objects.add_root(
        instance=Unit(code=f"{PREFIX}root", name="基准市公安局", kind=UnitKind.CITY, doc_prefix="基准督")
    )
    units = Unit.objects.bulk_create(
        [
            Unit(
                code=f"{PREFIX}{i:05d}",
                name=f"基准第{i + 1}派出所",
                kind=UnitKind.STATION,
                path=Unit._get_path(root.path, 2, i + 1),
                depth=2,
                numchild=0,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    Unit.objects.filter(pk=root.pk).update(numchild=n)
    password = make_password(None)
    leads = User.objects.bulk_create(
        [
            User(
                username=f"{PREFIX}lead_{u.code}",
                name=f"{u.name}负责人",
                unit=u,
                password=password,
                email=f"lead-{u.code}@bench.invalid" if i % 3 == 0 else "",
            )
            for i, u in enumerate(units)
        ],
        batch_size=1000,
    )
    RoleGrant.objects.bulk_create(
        [RoleGrant(user=lead, role=Role.UNIT_LEAD, unit_id=lead.unit_id) for lead in leads], batch_size=1000
    )
    people = {}
    for name, role in (("hq", Role.HQ), ("leader", Role.LEADER)):
        people[name] = User.objects.create(username=f"{PREFIX}{name}", name=f"基准{name}", unit=root, password=password)
        RoleGrant.objects.create(user=people[name], role=role, unit=root)
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        code=f"{PREFIX}campaign",
        name="基准专项行动",
        owner=root,
        start=today - timedelta(days=30),
        end=today + timedelta(days=60),
        status=CampaignStatus.PUBLISHED,
        published_at=timezone.now() - timedelta(days=30),
    )
    return root, units, people, campaign


class Command(BaseCommand):
    help = "Time issuing a bulletin to many units (its recipients told, set-based) in a rolled-back transaction."

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=1650)

    def handle(self, *args, units: int, **options):
        figures: dict = {"units": units, "vendor": connection.vendor, "goal_s": GOAL_S}
        stored: list[str] = []
        try:
            with transaction.atomic():
                root, made, people, campaign = build(units)
                hq, leader = people["hq"], people["leader"]
                doc = svc.draft_bulletin(by=hq, campaign=campaign, unit=root, period=default_period(campaign))
                figures["default_recipients"] = doc.distribution.count()
                started = time.perf_counter()
                doc = dist.set_recipients(document=doc, by=hq, units=made)
                figures["set_recipients_s"] = round(time.perf_counter() - started, 3)
                figures["printed_addressees"] = doc.recipients
                doc = svc.check_document(document=svc.submit_document(document=doc, by=hq), by=hq)
                told = dist.issue
                spent: dict[str, float] = {}

                def timed_issue(document, by):  # the telling part of the issue, on its own
                    began = time.perf_counter()
                    n = told(document, by)
                    spent["tell"] = time.perf_counter() - began
                    return n

                dist.issue = timed_issue
                with CaptureQueriesContext(connection) as ctx:
                    started = time.perf_counter()
                    doc = svc.sign_document(document=doc, by=leader)
                    figures["issue_s"] = round(time.perf_counter() - started, 3)
                dist.issue = told
                figures["issue_tell_s"] = round(spent["tell"], 3)
                stored += [doc.pdf.name, doc.docx.name]
                figures["issue_queries"] = len(ctx.captured_queries)
                figures["events"] = Event.objects.filter(kind="document", subject_id=doc.pk).count()
                figures["messages"] = Message.objects.filter(event__subject_id=doc.pk, event__kind="document").count()
                started = time.perf_counter()
                dist.acknowledge(document=doc, by=User.objects.get(username=f"{PREFIX}lead_{made[0].code}"))
                figures["acknowledge_s"] = round(time.perf_counter() - started, 3)
                # a week on, the others not acknowledged: the sweep's 未签收 of the document, one reminder per
                # unit to its leads (the whole sweep, in full: the first of its day)
                with CaptureQueriesContext(connection) as ctx:
                    started = time.perf_counter()
                    swept = sweep.run(now=doc.issued_at + timedelta(days=7))
                    figures["sweep_s"] = round(time.perf_counter() - started, 3)
                figures["sweep_queries"] = len(ctx.captured_queries)
                figures["sweep_reminders"] = sum(
                    n for (subject, _kind, _to), n in swept.reminders.items() if subject == Subject.DOC_UNACKED
                )
                figures["sweep_messages"] = sum(swept.messages.values())
                with CaptureQueriesContext(connection) as ctx:
                    started = time.perf_counter()
                    chased = dist.chase(document=doc, by=hq, note="请及时签收")
                    figures["chase_s"] = round(time.perf_counter() - started, 3)
                figures["chase_queries"] = len(ctx.captured_queries)
                figures["chased_units"] = chased.chased
                figures["met"] = figures["issue_s"] < GOAL_S
                raise Rollback
        except Rollback:
            pass
        finally:
            from django.core.files.storage import default_storage

            for name in stored:
                default_storage.delete(name)
        self.stdout.write(json.dumps(figures, ensure_ascii=False, indent=1))
