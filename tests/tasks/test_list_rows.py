"""The assignment and unit rows the API writes by hand (``to_representation``) are DRF's own rows:
the same keys in the same order, the same values and formats, over rows with every kind of value
(passed-down shares, reports, an acknowledgement, a withdrawn row, every status). A field added to
``Meta.fields`` without its line in the hand-written row fails here."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from accounts.api import UnitSerializer
from accounts.models import Unit
from tasks.api import AssignmentDetailSerializer, AssignmentSerializer
from tasks.models import Assignment
from tasks.services.receipts import acknowledge_assignment

from .test_list_queries import TODAY, grow, spread_statuses

pytestmark = pytest.mark.django_db


def generic(serializer_class, obj, context):
    """What DRF's ``ModelSerializer`` makes of the row (the hand-written path skipped)."""
    return serializers.ModelSerializer.to_representation(serializer_class(context=context), obj)


def test_assignment_rows_are_drfs_rows(city, published, tmp_path):
    grow(city, published, tmp_path)
    spread_statuses()
    some = Assignment.objects.filter(campaign=published).order_by("id")
    first = some.filter(unit__code="330310").first()
    acknowledge_assignment(assignment=first, by=city["east_lead"])
    Assignment.objects.filter(pk=some.last().pk).update(
        is_active=False, updated_at=timezone.now() - timedelta(days=3, microseconds=7)
    )
    rows = list(Assignment.objects.select_related("item", "unit", "campaign", "acknowledged_by").order_by("id"))
    assert any(r.parent_id for r in rows) and any(r.acknowledged_by_id for r in rows)
    assert any(r.target is None for r in rows) and any(r.target is not None for r in rows)
    assert any(r.progress > 0 for r in rows) and any(not r.is_active for r in rows)
    request = APIRequestFactory().get("/api/v1/assignments/")
    request.user = city["hq"]
    context = {"request": request}
    with time_machine.travel(TODAY):
        for row in rows:
            fast = AssignmentSerializer(context=context).to_representation(row)
            slow = generic(AssignmentSerializer, row, context)
            assert list(fast) == list(slow) == AssignmentSerializer.Meta.fields
            assert fast == slow, row.pk
            assert list(fast["item"]) == list(slow["item"]) and list(fast["unit"]) == list(slow["unit"])
            detail = AssignmentDetailSerializer(context=context).to_representation(row)
            assert detail == generic(AssignmentDetailSerializer, row, context), row.pk
            assert list(detail) == AssignmentDetailSerializer.Meta.fields


@pytest.mark.smoke  # both databases: SQLite's columns come back through converters
def test_plain_rows_write_what_model_instances_write(city, published, tmp_path):
    """A list read as ``tasks.rows`` (tuples, the model's rules borrowed) writes every row as the model
    instances do — targets per week and per month (the cadence read), a second target, a first linked to
    an indicator, shares, a signer, every status — and judges pace and shortfall alike."""
    from decimal import Decimal

    from stats.models import Indicator
    from tasks.models import Item, Target
    from tasks.rows import AssignmentRow, rows

    grow(city, published, tmp_path)
    spread_statuses()
    acknowledge_assignment(assignment=Assignment.objects.filter(unit__code="330310").first(), by=city["east_lead"])
    items = list(Item.objects.filter(target_value__isnull=False).order_by("id"))  # both campaigns
    Item.objects.filter(pk=items[0].pk).update(deadline_kind="weekly", target_per="weekly", cadence_weekday=3)
    Item.objects.filter(pk=items[1].pk).update(deadline_kind="monthly", target_per="monthly", cadence_day=15)
    Target.objects.create(item=items[2], seq=2, text="整改隐患不少于5处", comparator="ge", value=Decimal(5), unit="处")
    linked = Indicator.objects.create(campaign=items[3].campaign, code="places", name="检查场所", measure="家次", seq=1)
    Target.objects.filter(item=items[3], seq=1).update(indicator=linked)

    models = list(Assignment.objects.select_related("item", "unit", "campaign", "acknowledged_by").order_by("id"))
    plain = list(rows().order_by("id"))
    assert [type(r) for r in plain] == [AssignmentRow] * len(models) and len(models) > 20
    assert any(r.acknowledged_by for r in plain) and any(r.parent_id for r in plain)
    context = {"request": None}
    with time_machine.travel(TODAY):
        for row, model in zip(plain, models, strict=True):
            assert (row.target, row.is_behind_pace(), row.shortfall()) == (
                model.target,
                model.is_behind_pace(),
                model.shortfall(),
            ), model.pk
            assert AssignmentSerializer(context=context).to_representation(row) == AssignmentSerializer(
                context=context
            ).to_representation(model)
        # the list's way: the page judged in one statement, by every target
        written = AssignmentSerializer(plain, many=True, context={}).data
        assert written == AssignmentSerializer(models, many=True, context={}).data
    apart = {items[2].pk, items[3].pk}  # a second target; a first linked to an indicator
    assert {r.item_id for r in plain if r.targets_apart} == apart
    weekly = next(r for r in plain if r.item_id == items[0].pk)
    assert weekly.target > items[0].target_value  # per week, times the weeks
    assert {r.item_id for r in plain if r.item.cadence_day == 15} == {items[1].pk}


@pytest.mark.smoke
def test_a_page_without_a_target_read_apart_is_not_judged_by_a_statement(city, published):
    """The judging statement (``targets._others_sql``) runs for a page only when one of its rows' items
    has a target read apart, and then for those rows alone; the rows say so (``targets_apart``)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tasks.models import Target
    from tasks.rows import rows

    def judging(qs) -> list[str]:
        page = list(qs)
        with CaptureQueriesContext(connection) as ctx:
            AssignmentSerializer(page, many=True, context={}).data
        return [q["sql"] for q in ctx.captured_queries if "row_id" in q["sql"]]

    assert Target.objects.filter(seq__gt=1).count() == 0 == Target.objects.filter(indicator__isnull=False).count()
    assert judging(rows().order_by("id")) == []
    one = Assignment.objects.filter(item__code="1.1").order_by("id").first()
    Target.objects.create(item=one.item, seq=2, text="整改隐患不少于5处", comparator="ge", value=5, unit="处")
    found = judging(rows().order_by("id"))
    assert len(found) == 1
    assert judging(rows().exclude(item=one.item).order_by("id")) == []
    # a page of model instances (the web pages') is judged as before: it cannot tell
    assert len(judging(Assignment.objects.select_related("item", "campaign").order_by("id"))) == 1


def test_a_column_the_rows_need_missing_from_the_read_fails_before_any_row(city, published):
    from tasks.rows import rows

    assert list(rows().filter(pk=-1)) == []
    with pytest.raises(KeyError):
        list(rows().defer("item__deadline_kind"))


def test_unit_rows_are_drfs_rows(city):
    Unit.objects.filter(code="330320").update(is_active=False, short_name="")
    for unit in Unit.objects.order_by("path"):
        fast = UnitSerializer(context={}).to_representation(unit)
        assert fast == generic(UnitSerializer, unit, {})
        assert list(fast) == UnitSerializer.Meta.fields


def test_labels_are_built_once_per_request(city, published, monkeypatch):
    """The status and kind words: one dict per request, not one per row. Django's ``.choices`` builds a
    new list on every read, so reading it per row (to hand it over) cost as much as building the dict."""
    from accounts import api as accounts_api
    from tasks import api as tasks_api

    read = {"status": 0, "kind": 0}

    def counted(name, real):
        class Counting:
            @property
            def choices(self):
                read[name] += 1
                return real.choices

        return Counting()

    monkeypatch.setattr(tasks_api, "AssignmentStatus", counted("status", tasks_api.AssignmentStatus))
    monkeypatch.setattr(tasks_api, "UnitKind", counted("kind", tasks_api.UnitKind))
    monkeypatch.setattr(accounts_api, "UnitKind", counted("kind", accounts_api.UnitKind))
    rows = Assignment.objects.select_related("item", "unit", "campaign", "acknowledged_by")
    data = AssignmentSerializer(rows, many=True, context={}).data
    assert len(data) > 1
    assert read == {"status": 1, "kind": 1}
    units = UnitSerializer(Unit.objects.all(), many=True, context={}).data
    assert len(units) > 1
    assert read == {"status": 1, "kind": 2}


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/St_Johns"])
def test_stamps_are_drfs_stamps_in_any_zone(zone):
    from datetime import UTC, datetime

    from rest_framework.exceptions import ValidationError

    from tasks.api import _STAMP, _stamp

    values = [
        None,
        datetime(2026, 12, 6, 3, 59, 26, 546399, tzinfo=UTC),
        datetime(2026, 7, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 8, 30),  # naive: DRF makes it aware in the zone
        datetime(1, 1, 1, 0, 0, tzinfo=UTC),
    ]
    with timezone.override(zone):
        tz = timezone.get_current_timezone()
        for value in values:
            try:
                expected = _STAMP.to_representation(value)
            except ValidationError as refused:  # year 1 before UTC−3:30: DRF refuses, and so do we
                with pytest.raises(ValidationError) as ours:
                    _stamp(value, tz)
                assert ours.value.detail == refused.detail
                continue
            assert _stamp(value, tz) == expected, value
        late = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)  # past year 9999 in Shanghai
        try:
            expected = _STAMP.to_representation(late)
        except ValidationError:
            with pytest.raises(ValidationError):
                _stamp(late, tz)
        else:
            assert _stamp(late, tz) == expected


@pytest.mark.smoke  # both databases: SQLite's amounts and dates come back through converters
def test_report_rows_are_drfs_rows(city, published):
    """A progress report's answer (the report POST's 201, an assignment's reports) written by hand is DRF's:
    with and without evidence, value, period and a later target, in any zone."""
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db.models import Prefetch

    from tasks.api import EvidenceSerializer, ProgressReportSerializer
    from tasks.models import Evidence, ProgressReport, Target
    from tasks.services.progress import report_progress

    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
    work = Assignment.objects.select_related("item").get(item__code="1.1", unit__code="33031001")
    second = Target.objects.create(item=work.item, seq=2, text="整改隐患不少于5处", comparator="ge", value=5, unit="处")
    lead = city["station_lead"]
    made = [
        report_progress(
            assignment=work,
            by=lead,
            value=Decimal("180.5"),
            text="清查 =1+1",
            files=[SimpleUploadedFile("现场.jpg", jpeg), SimpleUploadedFile("二.jpg", jpeg + b"2")],
        ),
        report_progress(assignment=work, by=lead, value=None, text="说明"),
        report_progress(assignment=work, by=lead, value=Decimal(3), text="整改", target=second),
    ]
    ProgressReport.objects.filter(pk=made[1].pk).update(period=TODAY)
    for zone in ("Asia/Shanghai", "UTC"):
        with timezone.override(zone):
            fresh = ProgressSerializerCase(made[0])  # as the POST answers: the evidence just stored
            assert fresh.fast == fresh.slow and len(fresh.fast["evidence"]) == 2
            read = ProgressReport.objects.select_related("reported_by", "target").prefetch_related(
                Prefetch("evidence", queryset=Evidence.objects.order_by("id"))
            )
            for report in read.order_by("id"):
                case = ProgressSerializerCase(report)
                assert case.fast == case.slow, report.pk
                assert list(case.fast) == ProgressReportSerializer.Meta.fields
            assert [r["target"] for r in ProgressReportSerializer(read.order_by("id"), many=True).data] == [
                None,
                None,
                2,
            ]
            for evidence in Evidence.objects.all():
                fast = EvidenceSerializer(context={}).to_representation(evidence)
                assert fast == generic(EvidenceSerializer, evidence, {})
                assert list(fast) == EvidenceSerializer.Meta.fields


class ProgressSerializerCase:
    """A report written by hand and by DRF (its nested evidence by DRF's own nested serializer)."""

    def __init__(self, report) -> None:
        from tasks.api import ProgressReportSerializer

        self.fast = ProgressReportSerializer(context={}).to_representation(report)
        slow = generic(ProgressReportSerializer, report, {})
        # DRF's nested rows go through the evidence serializer, itself by hand: write those by DRF too
        from tasks.api import EvidenceSerializer

        slow["evidence"] = [generic(EvidenceSerializer, e, {}) for e in report.evidence.all()]
        self.slow = slow
