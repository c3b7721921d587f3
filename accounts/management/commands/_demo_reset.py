"""Clearing the previous demo before ``load_demo`` builds it again for another day.

The demo campaign (its code), last year's (``<code>-<year>``) and everything hanging on them go:
supervision, statistics, reminders and their messages, the files of evidence and photos, the demo
office's notice and risk letter numbering, and the audit events of the deleted rows (their ids could be reused).
Units and users stay: ``load_demo`` updates them in place.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from audit.models import AuditEvent
from directives.models import Directive
from documents.models import Document, DocumentSequence, Summons
from inspections.models import (
    Answer,
    Finding,
    Hotspot,
    Inspection,
    LetterFile,
    Notice,
    NoticeSequence,
    Photo,
    RiskLetter,
    Verdict,
)
from notifications.models import Digest
from tasks.models import Assignment, Campaign, Comment, Evidence, Item, LineOfAction

OFFICE = "3303"


def reset_demo(code: str, *, usernames: list[str]) -> int:
    """Delete the demo campaigns ``code`` and ``code-*``; returns how many campaigns went."""
    campaigns = list(Campaign.objects.filter(Q(code=code) | Q(code__startswith=f"{code}-")))
    if not campaigns:
        return 0
    ids = {
        Campaign: [c.pk for c in campaigns],
        LineOfAction: list(LineOfAction.objects.filter(campaign__in=campaigns).values_list("pk", flat=True)),
        Item: list(Item.objects.filter(campaign__in=campaigns).values_list("pk", flat=True)),
        Directive: list(Directive.objects.filter(item__campaign__in=campaigns).values_list("pk", flat=True)),
        Assignment: list(Assignment.objects.filter(campaign__in=campaigns).values_list("pk", flat=True)),
        Inspection: list(Inspection.objects.filter(campaign__in=campaigns).values_list("pk", flat=True)),
        Finding: list(Finding.objects.filter(campaign__in=campaigns).values_list("pk", flat=True)),
        Notice: list(Notice.objects.filter(campaign__in=campaigns).values_list("pk", flat=True)),
        Hotspot: list(Hotspot.objects.filter(campaign__in=campaigns).values_list("pk", flat=True)),
        RiskLetter: list(RiskLetter.objects.filter(campaign__in=campaigns).values_list("pk", flat=True)),
    }
    for files in (
        Evidence.objects.filter(assignment__campaign__in=campaigns),
        Photo.objects.filter(finding__campaign__in=campaigns),
        LetterFile.objects.filter(letter__campaign__in=campaigns),
    ):
        for f in files.only("file"):
            f.file.delete(save=False)
    summonses = Summons.objects.filter(campaign__in=campaigns)  # 约谈: they hold their bulletin and notice
    ids[Summons] = list(summonses.values_list("pk", flat=True))
    summonses.delete()  # their commitments with them
    documents = Document.objects.filter(campaign__in=campaigns)
    ids[Document] = list(documents.values_list("pk", flat=True))
    for d in documents.only("pdf", "docx"):
        d.pdf.delete(save=False)
        d.docx.delete(save=False)
    documents.delete()  # their steps with them
    DocumentSequence.objects.filter(unit__in={c.owner_id for c in campaigns}).delete()
    RiskLetter.objects.filter(campaign__in=campaigns).delete()  # its attachments with it
    Answer.objects.filter(finding__campaign__in=campaigns).delete()
    Finding.objects.filter(campaign__in=campaigns).delete()
    Notice.objects.filter(campaign__in=campaigns).delete()
    Verdict.objects.filter(inspection__campaign__in=campaigns).delete()
    Inspection.objects.filter(campaign__in=campaigns).delete()
    Hotspot.objects.filter(campaign__in=campaigns).delete()
    Assignment.objects.filter(campaign__in=campaigns).exclude(parent=None).update(parent=None)
    Comment.objects.filter(assignment__campaign__in=campaigns).exclude(answer=None).update(answer=None)
    Assignment.objects.filter(campaign__in=campaigns).delete()
    Item.objects.filter(campaign__in=campaigns).delete()
    LineOfAction.objects.filter(campaign__in=campaigns).delete()
    Campaign.objects.filter(pk__in=ids[Campaign]).update(compare_to=None)
    Campaign.objects.filter(pk__in=ids[Campaign]).delete()  # rounds, figures, reminders, weights with them
    Digest.objects.filter(recipient__username__in=usernames).delete()
    NoticeSequence.objects.filter(unit__code=OFFICE).delete()
    for model, pks in ids.items():
        if pks:
            kind = ContentType.objects.get_for_model(model)
            for n in range(0, len(pks), 500):
                AuditEvent.objects.filter(content_type=kind, object_id__in=pks[n : n + 500]).delete()
    return len(campaigns)
