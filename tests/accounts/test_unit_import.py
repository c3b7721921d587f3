"""Importing the unit tree: headers in either language, re-runs, corrections, located errors."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from accounts.models import Unit
from accounts.unitfile import import_units
from audit.models import AuditEvent
from utilities.tables import FileProblems

CSV = """单位编码,单位名称,上级单位编码,单位类型
3303,江城市公安局,,市局
330310,城东分局,3303,分局
33031001,城关派出所,330310,派出所
33031002,东湖派出所,330310,派出所
330320,城西分局,3303,分局
"""


def write(tmp_path, text, name="units.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.django_db
def test_csv_builds_the_tree(tmp_path):
    result = import_units(path=write(tmp_path, CSV))
    assert len(result.created) == 5
    east = Unit.objects.get(code="330310")
    assert set(east.subtree().values_list("code", flat=True)) == {"330310", "33031001", "33031002"}
    assert Unit.objects.get_parent(Unit.objects.get(code="33031001")).code == "330310"
    assert Unit.objects.get(code="33031001").kind == "station"
    assert AuditEvent.objects.filter(verb="unit.created").count() == 5


@pytest.mark.django_db
def test_xlsx_with_english_headers_and_title_row(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Unit list 2026"])
    sheet.append(["code", "name", "parent_code", "kind"])
    sheet.append(["1", "Province HQ", None, "province"])
    sheet.append([11, "City", 1, "市局"])  # codes typed as numbers
    book.save(tmp_path / "u.xlsx")
    import_units(path=tmp_path / "u.xlsx")
    assert Unit.objects.get_parent(Unit.objects.get(code="11")).code == "1"


@pytest.mark.django_db
def test_rerun_updates_never_duplicates(tmp_path):
    import_units(path=write(tmp_path, CSV))
    again = import_units(path=write(tmp_path, CSV))
    assert Unit.objects.count() == 5 and again.unchanged == 5 and not again.created
    renamed = CSV.replace("城西分局,3303", "城西新区分局,3303").replace(
        "33031002,东湖派出所,330310", "33031002,东湖派出所,330320"
    )
    result = import_units(path=write(tmp_path, renamed))
    assert result.updated == ["330320"] and result.moved == ["33031002"]
    assert Unit.objects.get_parent(Unit.objects.get(code="33031002")).name == "城西新区分局"
    assert Unit.objects.count() == 5
    Unit.objects.find_problems()  # treebeard's own consistency check
    assert all(not problems for problems in Unit.objects.find_problems())


@pytest.mark.django_db
def test_every_error_is_listed_with_its_row_and_nothing_is_written(tmp_path):
    bad = CSV + "\n".join(
        [
            "330330,城南分局,9999,分局",  # unknown parent (row 7)
            "330310,城东分局二,3303,分局",  # duplicate code (row 8)
            "330340,,3303,分局",  # missing name (row 9)
            "A,甲,B,分局",  # cycle A -> B -> A (rows 10, 11)
            "B,乙,A,分局",
            "330350,城北分局,3303,警务室",  # unknown kind (row 12)
        ]
    )
    with pytest.raises(FileProblems) as exc:
        import_units(path=write(tmp_path, bad))
    text = [str(p) for p in exc.value.problems]
    assert Unit.objects.count() == 0 and AuditEvent.objects.count() == 0
    assert any(t.startswith("units.csv 第9行 B列（单位名称）") and "单位名称为空" in t for t in text)
    assert any(t.startswith("units.csv 第12行 D列（单位类型）") and "警务室" in t for t in text)
    second = [str(p) for p in FileProblems(exc.value.problems).problems]
    assert second == text


@pytest.mark.django_db
def test_tree_errors(tmp_path):
    bad = CSV + "330330,城南分局,9999,分局\n330310,城东分局二,3303,分局\nA,甲,B,分局\nB,乙,A,分局\n"
    with pytest.raises(FileProblems) as exc:
        import_units(path=write(tmp_path, bad))
    text = "\n".join(str(p) for p in exc.value.problems)
    assert "第7行 C列（上级单位编码）：上级单位编码“9999”不存在" in text
    assert "第8行 A列（单位编码）：单位编码“330310”重复（第3行已有）" in text
    assert "第9行 C列（上级单位编码）：上级关系成环" in text and "第10行" in text
    assert Unit.objects.count() == 0


@pytest.mark.django_db
def test_gbk_csv_from_excel(tmp_path):
    import_units(path=write(tmp_path, CSV, encoding="gb18030"))
    assert Unit.objects.get(code="3303").name == "江城市公安局"


@pytest.mark.django_db
def test_command_dry_run_and_errors(tmp_path, capsys):
    call_command("import_units", str(write(tmp_path, CSV)), "--dry-run")
    assert "新增 5 个单位" in capsys.readouterr().out and Unit.objects.count() == 0
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("import_units", str(write(tmp_path, CSV + "X,,3303,分局\n")))


def _units_csv(tmp_path, rows, name="tree.csv"):
    from bench.province import write_units_csv

    path = tmp_path / name
    write_units_csv(path, rows)
    return path


def _tree_is_sound():
    assert all(not problems for problems in Unit.objects.find_problems())  # treebeard's own check
    for unit in Unit.objects.all():  # numchild and depth as treebeard keeps them
        assert unit.numchild == Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1).count()
        assert unit.depth == len(unit.path) // Unit.steplen


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_units(tmp_path):
    """Set-based: one INSERT per level, the audit events in one batch; 10 units or 300, the same count."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.province import province_rows

    ContentType.objects.get_for_model(Unit)  # the audit's content type read once per process, not per import
    counts = []
    for n, rows in enumerate((province_rows(1, 2, 4), province_rows(3, 12, 280))):
        AuditEvent.objects.all().delete()  # they protect their units
        Unit.objects.all().delete()
        with CaptureQueriesContext(connection) as ctx:
            result = import_units(path=_units_csv(tmp_path, rows, f"tree{n}.csv"))
        assert len(result.created) == len(rows) == Unit.objects.count()
        assert AuditEvent.objects.filter(verb="unit.created", unit__isnull=False).count() == len(rows)
        counts.append(len(ctx.captured_queries))
        _tree_is_sound()
    assert counts[0] == counts[1], counts
    with CaptureQueriesContext(connection) as ctx:
        again = import_units(path=_units_csv(tmp_path, rows, "again.csv"))
    assert again.unchanged == len(rows) and len(ctx.captured_queries) <= 5


@pytest.mark.django_db
def test_new_units_go_after_the_children_already_there_and_moves_carry_them(tmp_path):
    """A second file adds stations beside existing ones, a unit under a new parent, and a new station
    under a unit that moves: the paths are treebeard's, the tree stays sound."""
    import_units(path=write(tmp_path, CSV))
    first = Unit.objects.get(code="33031001").path
    more = CSV.replace("330320,城西分局,3303,分局", "330320,城西分局,330330,分局") + "\n".join(
        [
            "33031003,西湖派出所,330310",
            "330330,城南分局,3303",
            "33032001,城西派出所,330320",
            "3304,临川市公安局,",
        ]
    )
    result = import_units(path=write(tmp_path, more + "\n", "more.csv"))
    assert sorted(result.created) == ["33031003", "33032001", "330330", "3304"] and result.moved == ["330320"]
    new = Unit.objects.get(code="33031003")
    assert new.path > Unit.objects.get(code="33031002").path > first and Unit.objects.get(code="33031001").path == first
    assert Unit.objects.get_parent(Unit.objects.get(code="330320")).code == "330330"
    assert Unit.objects.get_parent(Unit.objects.get(code="33032001")).code == "330320"
    assert Unit.objects.get(code="3304").depth == 1 and Unit.objects.get(code="330330").numchild == 1
    _tree_is_sound()
