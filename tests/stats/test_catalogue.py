"""HQ's catalogue of indicators and rounds (``stats.catalogue``): many rows at once with every problem
located by row and field and nothing written, recurring rounds (weekends, month starts) cut by the
campaign's period, the XLSX list, and the copy from another campaign with a date mover."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from accounts.models import Role
from audit.models import AuditEvent
from stats.catalogue import (
    CatalogueProblems,
    Recurrence,
    add_recurring_rounds,
    copy_catalogue,
    import_catalogue,
    save_indicators,
    save_rounds,
)
from stats.models import Figure, Indicator, Round
from tasks.models import Campaign, CampaignStatus
from tests.conftest import make_user
from utilities.errors import Forbidden, Missing
from utilities.tables import FileProblems

pytestmark = pytest.mark.django_db


def rows_of(campaign):
    return list(Indicator.objects.filter(campaign=campaign).order_by("seq", "id").values_list("name", "measure", "seq"))


def rounds_of(campaign):
    return list(Round.objects.filter(campaign=campaign).order_by("start").values_list("name", "start", "end"))


def other_campaign(owner, code="XJ27", start=date(2027, 7, 1), end=date(2027, 10, 8), **more):
    return Campaign.objects.create(
        code=code, name=f"行动{code}", owner=owner, start=start, end=end, status=CampaignStatus.DRAFT, **more
    )


# --- indicators --------------------------------------------------------------------------------------


def test_many_indicators_at_once_created_and_changed_and_audited(city, catalogue):
    c, police = catalogue["campaign"], catalogue["police"]
    saved = save_indicators(
        campaign=c,
        by=city["hq"],
        rows=[
            {"id": police.pk, "name": "出动警力", "measure": "人", "seq": 5},
            {"name": "查处违法行为", "measure": "起"},
            {"name": "收缴管制刀具", "measure": "把", "seq": 1, "is_active": "否"},
        ],
    )
    assert len(saved) == 3
    # a new row without an order goes after the last one there was
    assert rows_of(c) == [
        ("收缴管制刀具", "把", 1),
        ("检查场所", "家次", 2),
        ("查处违法行为", "起", 3),
        ("出动警力", "人", 5),
    ]
    knives = Indicator.objects.get(campaign=c, name="收缴管制刀具")
    assert not knives.is_active and knives.code  # a code made up for it
    verbs = list(AuditEvent.objects.filter(verb__startswith="indicator.").values_list("verb", "changes"))
    assert ("indicator.changed", {"measure": ["人次", "人"], "seq": [1, 5]}) in verbs
    assert sum(v == "indicator.created" for v, _ in verbs) == 2


def test_every_problem_is_located_by_row_and_field_and_nothing_is_written(city, catalogue):
    c = catalogue["campaign"]
    before = rows_of(c)
    with pytest.raises(CatalogueProblems) as caught:
        save_indicators(
            campaign=c,
            by=city["hq"],
            rows=[
                {"name": "新指标", "measure": "起"},  # fine alone: written with the others or not at all
                {"name": "", "measure": "起"},
                {"name": "检查场所", "measure": "家次"},  # an indicator already has the name
                {"name": "夜巡", "measure": "一个很长很长很长的单位", "seq": "²"},
                {"name": "夜巡", "measure": "次"},
                {"id": 2_000_000_007, "name": "幽灵", "measure": "次"},
            ],
        )
    found = {(p.row, p.field) for p in caught.value.problems}
    assert found == {(1, "name"), (2, "name"), (3, "measure"), (3, "seq"), (4, "name"), (5, "id")}
    assert "第5行 名称：与第4行重名" in str(caught.value)
    assert caught.value.payload()["problems"][0] == {"row": 1, "field": "name", "message": "请填写指标名称"}
    assert rows_of(c) == before
    assert not AuditEvent.objects.filter(verb__startswith="indicator.").exists()


def test_two_indicators_swap_names_in_one_save(city, catalogue):
    c, police, places = catalogue["campaign"], catalogue["police"], catalogue["places"]
    save_indicators(
        campaign=c,
        by=city["hq"],
        rows=[
            {"id": police.pk, "name": "检查场所", "code": "places"},
            {"id": places.pk, "name": "出动警力", "code": "police"},
        ],
    )
    police.refresh_from_db()
    places.refresh_from_db()
    assert (police.name, police.code, places.name, places.code) == ("检查场所", "places", "出动警力", "police")


def test_only_hq_over_the_owner_keeps_the_catalogue(city, catalogue):
    c = catalogue["campaign"]
    east_hq = make_user("east_hq", city.units["330310"], (Role.HQ, city.units["330310"]))
    for who in (city["station_lead"], city["inspector"], city["east_leader"], east_hq):
        with pytest.raises(Forbidden):
            save_indicators(campaign=c, by=who, rows=[{"name": "夜巡", "measure": "次"}])
        with pytest.raises(Forbidden):
            add_recurring_rounds(campaign=c, by=who, rule=Recurrence(Recurrence.WEEKENDS), name_pattern="周末{n}")
    assert not Indicator.objects.filter(name="夜巡").exists()


def test_a_new_indicator_takes_the_code_of_its_namesake_in_the_campaign_compared_with(city, catalogue):
    c = catalogue["campaign"]
    last = other_campaign(c.owner, code="XJ25", start=date(2025, 7, 1), end=date(2025, 10, 8))
    Indicator.objects.create(campaign=last, code="knives", name="收缴管制刀具", measure="把")
    c.compare_to = last
    c.save(update_fields=["compare_to"])
    save_indicators(campaign=c, by=city["hq"], rows=[{"name": "收缴管制刀具", "measure": "把"}])
    assert Indicator.objects.get(campaign=c, name="收缴管制刀具").code == "knives"


# --- rounds ------------------------------------------------------------------------------------------


def test_rounds_stay_in_the_period_apart_and_named_once(city, catalogue):
    c, second = catalogue["campaign"], catalogue["second"]  # 2026-07-01 … 10-08; 第一轮 7/7–7/9, 第二轮 8/4–8/6
    before = rounds_of(c)
    with pytest.raises(CatalogueProblems) as caught:
        save_rounds(
            campaign=c,
            by=city["hq"],
            rows=[
                {"name": "第三轮", "start": "2026-09-01", "end": "2026-09-03"},  # fine
                {"name": "第四轮", "start": "2026-06-28", "end": "2026-07-02"},  # starts before the campaign
                {"name": "第五轮", "start": "2026-07-08", "end": "2026-07-10"},  # overlaps 第一轮
                {"name": "第二轮", "start": "2026-09-10", "end": "2026-09-09"},  # a name taken; ends before it starts
                {"name": "第六轮", "start": "2026-02-30", "end": "2026-10-09"},
                {"id": second.pk, "start": "2026-09-02"},  # moved after its own end
            ],
        )
    found = {(p.row, p.field) for p in caught.value.problems}
    # the new 第二轮 comes first: the round keeping the name is told it is taken
    assert found == {(1, "start"), (2, "start"), (3, "end"), (4, "start"), (4, "end"), (5, "name"), (5, "end")}
    assert rounds_of(c) == before


def test_a_round_reported_under_keeps_its_dates_and_cannot_go(city, catalogue):
    c, first, second = catalogue["campaign"], catalogue["first"], catalogue["second"]
    Figure.objects.create(
        campaign=c,
        indicator=catalogue["police"],
        unit=city.units["33031001"],
        day=first.end,
        value=3,
        reported_by=city["hq"],
    )
    with pytest.raises(CatalogueProblems) as caught:
        save_rounds(campaign=c, by=city["hq"], rows=[{"id": first.pk, "end": "2026-07-10"}])
    assert "已有单位按该轮次上报战果" in str(caught.value)
    with pytest.raises(CatalogueProblems):
        save_rounds(campaign=c, by=city["hq"], rows=[{"id": first.pk, "delete": True}])
    # renamed it may be; the round nobody reported under may move or go
    save_rounds(
        campaign=c,
        by=city["hq"],
        rows=[
            {"id": first.pk, "name": "首轮"},
            {"id": second.pk, "delete": True},
            {"name": "第二轮", "start": "2026-08-11", "end": "2026-08-12"},
        ],
    )
    assert rounds_of(c) == [
        ("首轮", date(2026, 7, 7), date(2026, 7, 9)),
        ("第二轮", date(2026, 8, 11), date(2026, 8, 12)),
    ]
    assert AuditEvent.objects.filter(verb="round.deleted", object_id=second.pk).exists()


# --- recurring rounds ----------------------------------------------------------------------------------


def test_every_weekend_of_a_campaign_starting_on_a_sunday(city, catalogue):
    # 2027-08-01 is a Sunday, 2027-08-21 a Saturday: both weekends cut to the day inside
    c = other_campaign(catalogue["campaign"].owner, start=date(2027, 8, 1), end=date(2027, 8, 21))
    assert c.start.weekday() == 6 and c.end.weekday() == 5
    made = add_recurring_rounds(campaign=c, by=city["hq"], rule=Recurrence(Recurrence.WEEKENDS), name_pattern="周末{n}")
    assert [(r.name, r.start, r.end) for r in made] == [
        ("周末1", date(2027, 8, 1), date(2027, 8, 1)),
        ("周末2", date(2027, 8, 7), date(2027, 8, 8)),
        ("周末3", date(2027, 8, 14), date(2027, 8, 15)),
        ("周末4", date(2027, 8, 21), date(2027, 8, 21)),
    ]
    assert all(r.start.weekday() >= 5 and r.end.weekday() >= 5 for r in made)
    assert AuditEvent.objects.filter(verb="round.created").count() == 4


def test_the_first_days_of_each_month_at_month_ends(city, catalogue):
    c = other_campaign(catalogue["campaign"].owner, start=date(2028, 1, 30), end=date(2028, 4, 2))
    made = add_recurring_rounds(
        campaign=c, by=city["hq"], rule=Recurrence(Recurrence.MONTH_START, days=31), name_pattern="月初{n}（{range}）"
    )
    # January: from the campaign's first day to its 31st; February of a leap year ends on the 29th; April: cut
    assert [(r.start, r.end) for r in made] == [
        (date(2028, 1, 30), date(2028, 1, 31)),
        (date(2028, 2, 1), date(2028, 2, 29)),
        (date(2028, 3, 1), date(2028, 3, 31)),
        (date(2028, 4, 1), date(2028, 4, 2)),
    ]
    three = other_campaign(c.owner, code="XJ29", start=date(2029, 1, 2), end=date(2029, 3, 1))
    made = add_recurring_rounds(campaign=three, by=city["hq"], rule=Recurrence(Recurrence.MONTH_START, days=3))
    assert [(r.start, r.end) for r in made] == [
        (date(2029, 1, 2), date(2029, 1, 3)),
        (date(2029, 2, 1), date(2029, 2, 3)),
        (date(2029, 3, 1), date(2029, 3, 1)),
    ]
    assert made[0].name == "第1轮集中统一行动"


def test_recurring_rounds_over_existing_ones_are_refused_whole(city, catalogue):
    c = catalogue["campaign"]  # 第一轮 7/7–7/9 lies on no weekend; 第二轮 8/4–8/6 neither: add one that does
    save_rounds(campaign=c, by=city["hq"], rows=[{"name": "周末专项", "start": "2026-07-11", "end": "2026-07-12"}])
    before = rounds_of(c)
    with pytest.raises(CatalogueProblems) as caught:
        add_recurring_rounds(
            campaign=c, by=city["hq"], rule=Recurrence(Recurrence.WEEKENDS), name_pattern="周末第{n}轮"
        )
    assert "周末专项" in str(caught.value)
    assert rounds_of(c) == before


# --- copying -------------------------------------------------------------------------------------------


def test_copy_with_the_default_shift_and_with_a_mover(city, catalogue):
    source = catalogue["campaign"]  # 2026-07-01 … 10-08
    target = other_campaign(source.owner, start=date(2027, 7, 1), end=date(2027, 8, 5))
    Indicator.objects.create(campaign=target, code="places", name="检查场所", measure="家")
    got = copy_catalogue(source=source, target=target, by=city["hq"])
    # 第一轮 7/7–7/9 moved a year less a day (365 days); 第二轮 8/4–8/6 cut at 8/5; the kept indicator untouched
    assert rounds_of(target) == [
        ("第一轮", date(2027, 7, 7), date(2027, 7, 9)),
        ("第二轮", date(2027, 8, 4), date(2027, 8, 5)),
    ]
    assert (got.indicators, got.rounds, got.clamped, got.dropped, got.skipped) == (1, 2, 1, 0, 1)
    assert Indicator.objects.get(campaign=target, code="police").name == "出动警力"
    assert Indicator.objects.get(campaign=target, code="places").measure == "家"

    # the campaign-copy's mover: each date to the same weekday a year on
    later = other_campaign(source.owner, code="XJ28", start=date(2027, 6, 30), end=date(2027, 7, 31))
    got = copy_catalogue(source=source, target=later, by=city["hq"], move=lambda d: d + timedelta(weeks=52))
    assert rounds_of(later) == [("第一轮", date(2027, 7, 6), date(2027, 7, 8))]  # 第二轮 lands in August: dropped
    assert (got.rounds, got.dropped) == (1, 1)


def test_copy_needs_the_target_managed_and_the_source_seen(city, catalogue):
    source = catalogue["campaign"]
    target = other_campaign(source.owner)
    with pytest.raises(Forbidden):
        copy_catalogue(source=source, target=target, by=city["east_lead"])
    west = other_campaign(city.units["330320"], code="XW")
    east = other_campaign(city.units["330310"], code="XE")
    Round.objects.create(campaign=east, name="东区一轮", start=date(2027, 7, 7), end=date(2027, 7, 8))
    west_hq = make_user("west_hq", city.units["330320"], (Role.HQ, city.units["330320"]))
    with pytest.raises(Missing):
        copy_catalogue(source=east, target=west, by=west_hq)  # the east's campaign is out of its sight
    copy_catalogue(source=source, target=west, by=west_hq)  # the city's is seen from below
    assert rounds_of(west) == [
        ("第一轮", date(2027, 7, 7), date(2027, 7, 9)),
        ("第二轮", date(2027, 8, 4), date(2027, 8, 6)),
    ]


# --- the XLSX list -------------------------------------------------------------------------------------


def xlsx(sheets: dict[str, list[list]]) -> SimpleUploadedFile:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = BytesIO()
    book.save(out)
    return SimpleUploadedFile("指标清单.xlsx", out.getvalue())


def test_the_list_is_imported_matching_by_name(city, catalogue):
    c = catalogue["campaign"]
    upload = xlsx(
        {
            "指标": [["指标名称", "计量单位", "顺序"], ["出动警力", "人次", 3], ["查处违法行为", "起", 4]],
            "统一行动": [["名称", "开始日期", "结束日期"], ["第三轮", date(2026, 9, 1), "2026年9月3日"]],
        }
    )
    got = import_catalogue(campaign=c, by=city["hq"], upload=upload)
    assert (got.indicators, got.rounds) == (2, 1)
    assert Indicator.objects.get(campaign=c, name="出动警力").seq == 3
    assert Indicator.objects.filter(campaign=c).count() == 3
    assert ("第三轮", date(2026, 9, 1), date(2026, 9, 3)) in rounds_of(c)


def test_a_broken_list_is_located_by_sheet_row_and_column_and_writes_nothing(city, catalogue):
    c = catalogue["campaign"]
    before, rounds_before = rows_of(c), rounds_of(c)
    upload = xlsx(
        {
            "指标": [
                ["战果统计指标（2026年夏季行动）"],
                ["指标名称", "计量单位", "顺序"],
                ["查处违法行为", "起", 4],
                ["", "起", 5],
                ["夜巡", "", "第一"],
            ],
            "统一行动": [
                ["名称", "开始日期", "结束日期"],
                ["第三轮", "9月1日", "2026-09-03"],
                ["第一轮", "2026-07-08", "2026-07-07"],
            ],
        }
    )
    with pytest.raises(FileProblems) as caught:
        import_catalogue(campaign=c, by=city["hq"], upload=upload)
    where = {(p.location.table, p.location.row, p.location.column) for p in caught.value.problems}
    assert where == {("指标", 4, 0), ("指标", 5, 1), ("指标", 5, 2), ("统一行动", 2, 1), ("统一行动", 3, 2)}
    shown = [p.as_dict()["where"] for p in caught.value.problems]
    assert "指标清单.xlsx 工作表“指标” 第5行 C列（顺序）" in shown
    assert rows_of(c) == before and rounds_of(c) == rounds_before
    assert not AuditEvent.objects.filter(verb__regex=r"^(indicator|round)\.").exists()


def test_a_file_that_is_not_a_list_is_refused(city, catalogue):
    c = catalogue["campaign"]
    with pytest.raises(FileProblems, match="找不到“指标”工作表"):
        import_catalogue(campaign=c, by=city["hq"], upload=xlsx({"Sheet1": [["a", "b"]]}))
    with pytest.raises(Exception, match="应为 Excel 文件"):
        import_catalogue(
            campaign=c, by=city["hq"], upload=SimpleUploadedFile("指标.csv", "指标名称,计量单位\n夜巡,次\n".encode())
        )
    with pytest.raises(Forbidden):
        import_catalogue(
            campaign=c, by=city["station_lead"], upload=xlsx({"指标": [["指标名称", "计量单位"], ["夜巡", "次"]]})
        )
