"""Importing a campaign plan: formats, located errors, atomicity, idempotence, corrected files."""

import json
import time
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Unit, UnitKind
from audit.models import AuditEvent
from boards import rollup
from tasks.models import Assignment, AssignmentRole, AssignmentStatus, Campaign, CampaignStatus, Item
from tasks.services import plans
from tasks.services.plans import import_plan, publish_campaign
from tests.zipbombs import docx_bomb, sheet_bomb
from utilities.errors import Refused
from utilities.tables import FileProblems

from .planfiles import CAMPAIGN, PLAN, with_row, write_docx, write_xlsx, write_yaml

OPTS = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}


def assignment_map(campaign) -> dict[tuple[str, str], str]:
    return {
        (code, unit): role
        for code, unit, role in Assignment.objects.filter(campaign=campaign, is_active=True).values_list(
            "item__code", "unit__code", "role"
        )
    }


def snapshot():
    return (Campaign.objects.count(), Item.objects.count(), Assignment.objects.count(), AuditEvent.objects.count())


@pytest.fixture
def xlsx(tmp_path):
    return write_xlsx(tmp_path / "plan.xlsx")


@pytest.mark.django_db
class TestImport:
    def test_xlsx_with_sections_becomes_a_campaign(self, city, xlsx):
        result = import_plan(path=xlsx, **OPTS)
        campaign = Campaign.objects.get(code="XJ")
        assert (result.actions, result.items, result.assignments) == (2, 4, 0)
        assert campaign.status == CampaignStatus.DRAFT
        assert list(campaign.actions.values_list("code", "name", "leader_name")) == [
            ("1", "“清患”行动", "王建国"),
            ("2", "“铁拳”行动", "李振华"),
        ]
        item = campaign.items.get(code="1.1")
        assert (item.target_metric, item.target_comparator, item.target_value, item.target_unit) == (
            "检查场所",
            "ge",
            300,
            "家次",
        )
        assert item.due_date == date(2026, 8, 31) and item.deadline_text == "8月底前"
        weekly = campaign.items.get(code="2.1")
        assert (weekly.deadline_kind, weekly.cadence_weekday, weekly.due_date) == ("weekly", 5, None)
        assert "责任清单" in item.source_location and "第4行" in item.source_location

    def test_publish_assigns_every_named_unit_once(self, city, xlsx):
        result = import_plan(path=xlsx, publish=True, **OPTS)
        campaign = Campaign.objects.get(code="XJ")
        assert campaign.status == CampaignStatus.PUBLISHED and result.published
        assert assignment_map(campaign) == {
            # 各派出所 covers every station under the owner; 治安支队 cooperates
            ("1.1", "33031001"): "lead",
            ("1.1", "33031002"): "lead",
            ("1.1", "33032001"): "lead",
            ("1.1", "330302"): "coop",
            # named both lead and cooperating: lead
            ("1.2", "330302"): "lead",
            ("1.2", "330310"): "coop",
            ("1.2", "330320"): "coop",
            ("2.1", "330310"): "lead",
            ("2.1", "330320"): "lead",
            # 全市各单位: the owner's direct subordinates, who pass it down
            ("2.2", "330302"): "lead",
            ("2.2", "330310"): "lead",
            ("2.2", "330320"): "lead",
        }
        due = dict(Assignment.objects.filter(unit__code="330310").values_list("item__code", "due_date"))
        # a weekly item runs to the campaign's end; its check-ins come from the cadence
        assert due == {"1.2": date(2026, 7, 15), "2.1": date(2026, 10, 8), "2.2": date(2026, 10, 8)}

    def test_xlsx_docx_and_yaml_give_the_same_campaign(self, city, tmp_path):
        def content(code):
            campaign = Campaign.objects.get(code=code)
            items = campaign.items.values_list(
                "code",
                "action__code",
                "title",
                "target_text",
                "lead_text",
                "cooperating_text",
                "due_date",
                "deadline_kind",
            )
            return sorted(items), assignment_map(campaign)

        import_plan(path=write_xlsx(tmp_path / "p.xlsx"), publish=True, **{**OPTS, "code": "A"})
        import_plan(path=write_docx(tmp_path / "p.docx"), publish=True, **{**OPTS, "code": "B", "name": "B"})
        import_plan(path=write_yaml(tmp_path / "p.yaml", campaign={**CAMPAIGN, "code": "C", "name": "C"}), publish=True)
        assert content("A") == content("B") == content("C")
        assert len(content("A")[0]) == 4

    def test_csv_in_gbk_with_an_action_column_and_synonym_headers(self, city, tmp_path):
        text = (
            "夏季行动责任分工表\n"
            "编号,所属行动,工作内容,责任单位,协办单位,时间节点,目标任务\n"
            "1,清患行动,清查场所,治安支队,,7月20日前,不少于100家\n"
            "2,清患行动,排查隐患,各分局,,8月15日前,\n"
            "3,铁拳行动,打击盗窃,城东分局,,每月5日前,≥5起\n"
        )
        path = tmp_path / "plan.csv"
        path.write_bytes(text.encode("gb18030"))
        result = import_plan(path=path, **OPTS)
        assert (result.actions, result.items) == (2, 3)
        campaign = Campaign.objects.get(code="XJ")
        assert list(campaign.actions.values_list("name", flat=True)) == ["清患行动", "铁拳行动"]
        assert campaign.items.get(code="3").cadence_day == 5

    def test_json_output(self, city, xlsx, capsys):
        call_command("import_plan", str(xlsx), "--publish", "--format", "json", *_argv(OPTS))
        out = json.loads(capsys.readouterr().out)
        assert out["campaign"] == "XJ"
        assert (out["actions"], out["items"], out["assignments"]) == (2, 4, 12)
        assert out["created"] == {"campaign": 1, "actions": 2, "items": 4, "assignments": 12}
        assert out["errors"] == []
        # assignments per kind of unit: what was written, by the units' kinds
        written = Assignment.objects.filter(is_active=True)
        kinds = {k: written.filter(unit__kind=k).count() for k in UnitKind.values}
        assert out["by_unit_kind"] == {k: n for k, n in kinds.items() if n}
        assert sum(out["by_unit_kind"].values()) == out["assignments"]

    def test_text_output_counts_per_unit_kind(self, city, xlsx, capsys):
        call_command("import_plan", str(xlsx), "--publish", *_argv(OPTS))
        stations = Assignment.objects.filter(unit__kind=UnitKind.STATION).count()
        line = next(x for x in capsys.readouterr().out.splitlines() if "按单位类别：" in x)
        assert stations and f"派出所 {stations}" in line


def _argv(opts):
    return [
        "--campaign",
        opts["name"],
        "--code",
        opts["code"],
        "--start",
        opts["start"],
        "--end",
        opts["end"],
        "--owner",
        opts["owner"],
    ]


@pytest.mark.django_db
class TestErrors:
    def test_every_problem_is_located_and_nothing_is_written(self, city, tmp_path):
        bad = with_row(PLAN, 0, 0, lead="各派出所、治安大队", deadline="下周")
        bad = with_row(bad, 1, 0, task="", deadline="6月30日前")
        path = write_xlsx(tmp_path / "bad.xlsx", bad)
        before = snapshot()
        with pytest.raises(FileProblems) as exc:
            import_plan(path=path, publish=True, **OPTS)
        messages = [str(p) for p in exc.value.problems]
        assert snapshot() == before
        assert len(messages) == 4, messages
        unknown, deadline, empty, outside = messages
        assert unknown.startswith("bad.xlsx 工作表“责任清单” 第4行 E列（牵头单位）")
        assert "找不到单位“治安大队”" in unknown and "是否为：治安支队" in unknown
        assert deadline.startswith("bad.xlsx 工作表“责任清单” 第4行 H列（完成时限）") and "7月15日前" in deadline
        assert empty.startswith("bad.xlsx 工作表“责任清单” 第7行 B列（工作任务）")
        assert "不在行动期间" in outside and "第7行 H列" in outside

    def test_errors_in_word_name_table_and_row(self, city, tmp_path):
        path = write_docx(tmp_path / "bad.docx", with_row(PLAN, 1, 1, lead="城南分局"))
        with pytest.raises(FileProblems) as exc:
            import_plan(path=path, **OPTS)
        (problem,) = exc.value.problems
        assert str(problem).startswith("bad.docx 第1个表格 第7行 第5列（牵头单位）")
        assert problem.as_dict()["row"] == 7

    def test_errors_in_yaml_name_the_line(self, city, tmp_path):
        path = write_yaml(tmp_path / "bad.yaml", with_row(PLAN, 0, 1, deadline="2月30日前"))
        with pytest.raises(FileProblems) as exc:
            import_plan(path=path)
        (problem,) = exc.value.problems
        assert problem.location.row and problem.location.label == "actions[0].items[1].deadline"
        assert f"第{problem.location.row}行" in str(problem)

    def test_yaml_aliases_are_refused_before_they_expand(self, city, tmp_path):
        laughs = ["a: &a [x, x, x, x, x, x, x, x, x]"]
        laughs += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
        path = tmp_path / "laughs.yaml"
        path.write_text("\n".join(laughs) + "\nactions: *i\n", encoding="utf-8")
        with pytest.raises(FileProblems) as exc:
            import_plan(path=path, **OPTS)
        (problem,) = exc.value.problems
        assert "别名" in str(problem) and problem.location.row == 2

    def test_missing_header_and_missing_options(self, city, tmp_path):
        path = write_xlsx(tmp_path / "plan.xlsx", header=["序号", "内容", "单位"])
        with pytest.raises(FileProblems, match="找不到责任清单的表头"):
            import_plan(path=path, **OPTS)
        with pytest.raises(FileProblems, match="缺少开始日期"):
            import_plan(path=write_xlsx(tmp_path / "ok.xlsx"), name="X", end="2026-10-08", owner="3303")

    def test_ambiguous_unit_name_asks_for_a_code(self, city, tmp_path):
        twin = Unit(code="33032009", name="城关派出所", kind=UnitKind.STATION)
        Unit.objects.add_child(Unit.objects.get(code="330320"), instance=twin)
        path = write_xlsx(tmp_path / "p.xlsx", with_row(PLAN, 0, 1, lead="城关派出所"))
        with pytest.raises(FileProblems, match=r"有重名.*33031001.*33032009"):
            import_plan(path=path, **OPTS)
        # written by its code, it resolves
        import_plan(path=write_xlsx(tmp_path / "q.xlsx", with_row(PLAN, 0, 1, lead="33032009")), **OPTS)

    def test_command_exits_non_zero_with_json_errors(self, city, tmp_path, capsys):
        path = write_xlsx(tmp_path / "bad.xlsx", with_row(PLAN, 0, 0, lead="不存在单位"))
        with pytest.raises(CommandError):
            call_command("import_plan", str(path), "--format", "json", *_argv(OPTS))
        out = json.loads(capsys.readouterr().out)
        (error,) = out["errors"]
        assert error["sheet"] == "责任清单" and error["row"] == 4 and error["column"] == "E"
        assert Campaign.objects.count() == 0

    def test_closed_campaign_refuses_import(self, city, xlsx):
        import_plan(path=xlsx, **OPTS)
        Campaign.objects.update(status=CampaignStatus.CLOSED)
        with pytest.raises(FileProblems, match="已结束"):
            import_plan(path=xlsx, **OPTS)


@pytest.mark.django_db
class TestReimport:
    def test_dry_run_reports_and_writes_nothing(self, city, xlsx):
        before = snapshot()
        result = import_plan(path=xlsx, publish=True, dry_run=True, **OPTS)
        assert snapshot() == before
        assert result.dry_run and result.created["assignments"] == 12 and result.items == 4

    def test_same_file_again_changes_nothing(self, city, xlsx):
        import_plan(path=xlsx, publish=True, **OPTS)
        before = snapshot()
        result = import_plan(path=xlsx, **OPTS)
        assert snapshot() == before
        assert not any(result.created.values()) and not any(result.updated.values()) and result.changes == []

    def test_corrected_file_updates_by_code_and_keeps_progress(self, city, tmp_path, xlsx):
        import_plan(path=xlsx, publish=True, **OPTS)
        campaign = Campaign.objects.get(code="XJ")
        # 西山派出所 has started on 1.1; 城关派出所 got an individual extension
        xishan = Assignment.objects.get(item__code="1.1", unit__code="33032001")
        Assignment.objects.filter(pk=xishan.pk).update(status=AssignmentStatus.IN_PROGRESS)
        Assignment.objects.filter(item__code="1.1", unit__code="33031001").update(due_date=date(2026, 9, 10))

        corrected = with_row(PLAN, 0, 0, lead="城东分局、城关派出所、东湖派出所", deadline="9月5日前")
        result = import_plan(path=write_xlsx(tmp_path / "v2.xlsx", corrected), **OPTS)

        xishan.refresh_from_db()
        assert not xishan.is_active and xishan.status == AssignmentStatus.IN_PROGRESS  # withdrawn, not lost
        assert result.withdrawn["assignments"] == 1 and result.created["assignments"] == 1
        assert result.updated["items"] == 1
        due = dict(Assignment.objects.filter(item__code="1.1", is_active=True).values_list("unit__code", "due_date"))
        assert due == {
            "33031001": date(2026, 9, 10),  # the extension stands
            "33031002": date(2026, 9, 5),  # moved with the plan
            "330310": date(2026, 9, 5),  # newly named
            "330302": date(2026, 9, 5),
        }
        item_event = AuditEvent.objects.get(verb="item.updated")
        assert item_event.changes["deadline_text"] == ["8月底前", "9月5日前"]
        assert AuditEvent.objects.filter(verb="assignment.withdrawn", object_id=xishan.pk).exists()

        # named again in a later version: the same row comes back, with its progress
        import_plan(path=xlsx, **OPTS)
        xishan.refresh_from_db()
        assert xishan.is_active and xishan.status == AssignmentStatus.IN_PROGRESS
        assert Assignment.objects.filter(item__code="1.1", unit__code="33032001").count() == 1
        assert campaign.items.count() == 4

    def test_item_missing_from_a_new_version_is_withdrawn_not_deleted(self, city, tmp_path, xlsx):
        import_plan(path=xlsx, publish=True, **OPTS)
        shorter = [(PLAN[0][0], PLAN[0][1]), (PLAN[1][0], PLAN[1][1][:1])]
        result = import_plan(path=write_xlsx(tmp_path / "v2.xlsx", shorter), **OPTS)
        item = Item.objects.get(code="2.2")
        assert not item.is_active and result.withdrawn == {"items": 1, "assignments": 3}
        assert Assignment.objects.filter(item=item).count() == 3


@pytest.mark.django_db
class TestPublishScale:
    def _add_stations(self, n):
        east = Unit.objects.get(code="330310")
        for i in range(n):
            east.refresh_from_db()
            Unit.objects.add_child(east, instance=Unit(code=f"3303109{i:02d}", name=f"新{i}所", kind=UnitKind.STATION))

    def _publish_queries(self, xlsx, code):
        import_plan(path=xlsx, **{**OPTS, "code": code, "name": code})
        campaign = Campaign.objects.get(code=code)
        with CaptureQueriesContext(connection) as ctx:
            publish_campaign(campaign=campaign, by=None)
        return len(ctx.captured_queries), campaign.assignments.count()

    def test_publish_query_count_does_not_grow_with_units(self, city, xlsx):
        small, rows_small = self._publish_queries(xlsx, "S")
        self._add_stations(25)
        large, rows_large = self._publish_queries(xlsx, "L")
        assert rows_large == rows_small + 25
        assert large == small

    @pytest.mark.parametrize("fast", [True, False])
    def test_both_write_paths_give_the_same_rows(self, city, xlsx, settings, fast):
        settings.DB_FAST_PATHS = fast
        import_plan(path=xlsx, publish=True, **OPTS)
        rows = Assignment.objects.filter(campaign__code="XJ")
        assert rows.count() == 12
        assert set(rows.values_list("status", "is_active", "version")) == {("pending", True, 1)}
        assert rows.filter(role=AssignmentRole.LEAD).count() == 9
        assert rollup.differences(Campaign.objects.get(code="XJ")) == []  # the triggers counted every row

    @pytest.mark.parametrize("fast", [True, False])
    def test_publish_watched_in_chunks_writes_the_same_rows_and_counts(self, city, xlsx, settings, fast, monkeypatch):
        """Someone watching the progress gets the rows in chunks (in unit order); nobody watching, one COPY:
        the same assignments, the rollup and its ledger exact either way."""
        settings.DB_FAST_PATHS = fast
        monkeypatch.setattr(plans, "ASSIGNMENT_CHUNK", 5)
        heard = []
        import_plan(path=xlsx, publish=True, progress=lambda *stage: heard.append(stage), **OPTS)
        import_plan(path=xlsx, publish=True, **{**OPTS, "code": "XK"})
        assert [done for stage, done, _ in heard if stage == "assignments"] == [0, 5, 10, 12]
        chunked, whole = (Campaign.objects.get(code=code) for code in ("XJ", "XK"))
        assert assignment_map(chunked) == assignment_map(whole) and len(assignment_map(whole)) == 12
        for campaign in (chunked, whole):
            assert rollup.differences(campaign) == []
            assert rollup.ledger_differences(campaign) == []
            assert set(campaign.assignments.values_list("status", "is_active", "version", "progress")) == {
                ("pending", True, 1, 0)
            }


def _refused(write) -> None:
    """``write`` fails on the assignments' keys (tasks 0017: checked at the end of the statement)."""
    with pytest.raises(IntegrityError, match="assignment"), transaction.atomic():
        write()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement triggers are PostgreSQL's (tasks 0017)")
def test_an_assignments_item_campaign_and_unit_are_checked_per_statement(city, xlsx):
    """The keys the publish no longer checks row by row at COMMIT still hold: the item is an item of the
    assignment's campaign, the unit exists, and neither goes while assignments name it."""
    import_plan(path=xlsx, publish=True, **OPTS)
    import_plan(path=xlsx, **{**OPTS, "code": "XK"})  # a draft with the same items
    a = Assignment.objects.filter(campaign__code="XJ").order_by("pk").first()
    other = Item.objects.get(campaign__code="XK", code=a.item.code)
    _refused(lambda: Assignment.objects.filter(pk=a.pk).update(campaign=Campaign.objects.get(code="XK")))
    _refused(lambda: Assignment.objects.filter(pk=a.pk).update(item=other))
    _refused(lambda: Assignment.objects.filter(pk=a.pk).update(unit_id=10**9))
    _refused(
        lambda: Assignment.objects.bulk_create(
            [Assignment(campaign_id=a.campaign_id, item_id=a.item_id, unit_id=10**9, due_date=a.due_date)]
        )
    )
    with connection.cursor() as cursor:  # around Django's collector, as raw SQL would
        _refused(lambda: cursor.execute("DELETE FROM tasks_item WHERE id = %s", [a.item_id]))
        _refused(lambda: cursor.execute("UPDATE tasks_item SET id = id + 1000000 WHERE id = %s", [a.item_id]))
        _refused(lambda: cursor.execute("DELETE FROM accounts_unit WHERE id = %s", [a.unit_id]))
    # what names nothing goes, and a write that changes no key is not refused
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tasks_responsibility WHERE item_id = %s", [other.pk])
        cursor.execute("DELETE FROM tasks_target WHERE item_id = %s", [other.pk])
        cursor.execute("DELETE FROM tasks_item WHERE id = %s", [other.pk])
    assert Assignment.objects.filter(pk=a.pk).update(status=AssignmentStatus.IN_PROGRESS) == 1
    assert rollup.differences(a.campaign_id) == []


@pytest.mark.django_db
def test_publishing_needs_the_manage_right_over_the_owner_and_a_draft(city, xlsx):
    """The service checks its caller itself: HQ over the owning bureau publishes, a sub-bureau's lead
    does not; a campaign already published is refused (a ``Refused``, the API's and pages' 400)."""
    import_plan(path=xlsx, **OPTS)
    campaign = Campaign.objects.get(code="XJ")
    before = snapshot()
    with pytest.raises(PermissionDenied):
        publish_campaign(campaign=campaign, by=city["east_lead"])
    assert snapshot() == before
    assert publish_campaign(campaign=campaign, by=city["hq"]).created["assignments"] == 12
    assert AuditEvent.objects.get(verb="campaign.published").actor == city["hq"]
    with pytest.raises(Refused, match="只有草稿可以发布"):
        publish_campaign(campaign=campaign, by=city["hq"])


@pytest.mark.django_db
def test_the_template_imports_as_it_is(city, tmp_path):
    path = tmp_path / "template.xlsx"
    call_command("export_plan_template", str(path))
    result = import_plan(path=path, **OPTS, publish=True)
    assert (result.actions, result.items) == (1, 3)
    item = Item.objects.get(code="1.2")
    assert item.milestones == ["2026-07-20", "2026-08-31"] and item.due_date == date(2026, 8, 31)


@pytest.mark.parametrize(("name", "bomb"), [("plan.xlsx", sheet_bomb), ("plan.docx", docx_bomb)])
def test_a_zip_bomb_plan_is_refused_before_it_is_read(city, tmp_path, name, bomb):
    """The plan import passes the same gate as the statistics sheet (utilities/office.py)."""
    before = snapshot()
    path = tmp_path / name
    path.write_bytes(bomb())
    started = time.monotonic()
    with pytest.raises(CommandError, match="方案有 1 处错误"):
        call_command(
            "import_plan",
            str(path),
            "--campaign",
            OPTS["name"],
            "--start",
            "2026-07-01",
            "--end",
            "2026-10-08",
            "--owner",
            OPTS["owner"],
        )
    assert time.monotonic() - started < 5
    with pytest.raises(FileProblems, match=f"^{name}：文件解压后.*疑为恶意构造的压缩文件，不予读取$"):
        import_plan(path=path, **OPTS)
    assert snapshot() == before


def test_the_command_speaks_to_a_clerk(city, tmp_path):
    """Text output: a dry run says nothing is written and writes nothing; the import lists what it
    changed and the totals; importing the same file again says there is nothing to change."""
    from io import StringIO

    xlsx = write_xlsx(tmp_path / "plan.xlsx")

    def run(*extra: str) -> str:
        out = StringIO()
        call_command("import_plan", str(xlsx), *extra, *_argv(OPTS), stdout=out)
        return out.getvalue()

    dry = run("--dry-run")
    assert dry.startswith("试运行：以下变更不会写入。") and not Campaign.objects.exists()
    first = run("--publish")
    campaign = Campaign.objects.get(code=OPTS["code"])
    assert f"行动 {campaign.code}（已发布）：" in first
    assert "  新建行动“夏季治安打击整治‘百日行动’”（XJ）" in first  # a quoted name's own quotes become ‘ ’
    assert f"{Item.objects.filter(campaign=campaign).count()} 项清单" in first
    assert f"{Assignment.objects.filter(campaign=campaign).count()} 条任务分配" in first
    assert first.splitlines()[0].startswith("  ")  # each change on its own indented line
    again = run()
    assert "与已导入的方案相同，没有变更。" in again and "（已发布）" in again
