"""The gate every Office file passes before a parser opens it (utilities/office.py, through utilities.tables):
a zip bomb, a part too large, a file too large in all, too many cells, a stated size that lies, a
damaged file — each refused fast, with one sentence saying what is wrong; honest files read as before."""

from __future__ import annotations

import time

import pytest

from tests.zipbombs import docx_bomb, sheet_bomb, write, xlsx
from utilities.tables import FileProblems, read_tables

FAST = 5  # seconds; the reader took 63 s and 430 MB over the tester's bomb


def refused(path) -> str:
    started = time.monotonic()
    with pytest.raises(FileProblems) as caught:
        read_tables(path)
    assert time.monotonic() - started < FAST
    (problem,) = caught.value.problems
    assert problem.location.file == path.name and problem.location.row is None
    return str(problem)


def test_the_testers_sheet_bomb_is_refused_by_its_expansion(tmp_path):
    path = write(tmp_path / "统计.xlsx", sheet_bomb())
    assert path.stat().st_size < 70 * 1024  # 64 KB that unpacks to 16 MB
    message = refused(path)
    assert message.startswith("统计.xlsx：文件解压后（16 MB）是压缩时的")
    assert message.endswith("倍，超过上限100倍，疑为恶意构造的压缩文件，不予读取")


def test_a_word_table_bomb_is_refused(tmp_path):
    assert "超过上限100倍" in refused(write(tmp_path / "方案.docx", docx_bomb()))


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        ({"OFFICE_MAX_RATIO": 10**6}, "表格的单元格或行数超过200,000个，不予读取"),
        (
            {"OFFICE_MAX_RATIO": 10**6, "OFFICE_MAX_MEMBER_BYTES": 2**20},
            "文件中的“xl/worksheets/sheet1.xml”解压后有16 MB，超过单个部分的上限1.0 MB",
        ),
        ({"OFFICE_MAX_RATIO": 10**6, "OFFICE_MAX_EXPANDED_BYTES": 5 * 2**20}, "文件解压后有16 MB，超过上限5.0 MB"),
    ],
    ids=["cells", "one part", "in all"],
)
def test_each_limit_refuses_on_its_own(tmp_path, settings, limits, words):
    for key, value in limits.items():
        setattr(settings, key, value)
    assert words in refused(write(tmp_path / "统计.xlsx", sheet_bomb()))


def test_the_cells_of_a_word_table_are_counted(tmp_path, settings):
    settings.OFFICE_MAX_RATIO = 10**6
    assert "单元格或行数超过200,000个" in refused(write(tmp_path / "方案.docx", docx_bomb()))


def test_a_sheet_that_states_a_huge_size_reads_as_what_it_holds(tmp_path):
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>2026-07-02</t></is></c><c r="B2"><v>5</v></c></row>'
    path = write(tmp_path / "统计.xlsx", xlsx(("日期", "出动警力"), row, dimension="A1:XFD1048576"))
    started = time.monotonic()
    (table,) = read_tables(path)
    assert time.monotonic() - started < FAST
    assert [r.cells for r in table.rows] == [["日期", "出动警力"], ["2026-07-02", "5"]]


def test_empty_rows_up_to_the_last_row_of_excel_are_counted(tmp_path):
    far = b'<row r="1048576"><c r="A1048576"><v>1</v></c></row>'
    assert "单元格或行数超过200,000个" in refused(write(tmp_path / "统计.xlsx", xlsx(("日期",), far)))


def test_many_rows_of_a_csv_are_counted(tmp_path, settings):
    settings.OFFICE_MAX_CELLS = 1000
    assert "单元格或行数超过1,000个" in refused(write(tmp_path / "units.csv", b"a,b,c\n" * 400))


EXCEL = "不是有效的 Excel 文件（无法解压读取）：请用 Excel 或 WPS 打开，另存为 .xlsx 格式后重试"
WORD = "不是有效的 Word 文件（无法解压读取）：请用 Word 或 WPS 打开，另存为 .docx 格式后重试"


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("统计.xlsx", "日期,出动警力\n".encode(), EXCEL),
        ("统计.xlsx", b"PK\x03\x04 broken", EXCEL),
        ("方案.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), WORD),
    ],
    ids=["a CSV renamed", "a damaged zip", "an old .doc renamed"],
)
def test_a_file_that_is_not_what_its_name_says_is_named_in_words(tmp_path, name, content, said):
    message = refused(write(tmp_path / name, content))
    assert message == f"{name}：{said}"
    assert "Zip" not in message and "Error" not in message
