"""Charts (boards/charts.py): the ECharts option is plain JSON with gaps and the percent axis; the PNG is a
real image whose Chinese text is drawn; the vendored ECharts and static/js/charts.js are what the pages
need under a strict CSP; the template snippets render the element and its JSON."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template, render_to_string
from PIL import Image, ImageChops

from boards.charts import Chart, ChartFontMissing, Series, png

pytestmark = pytest.mark.smoke

STATIC = Path(settings.BASE_DIR) / "static"
UNITS = ["城关派出所", "东湖派出所", "城东交警大队", "西山派出所"]


def completion() -> Chart:
    return Chart(
        title="各单位任务完成率",
        x=UNITS,
        series=[Series("完成率", [80, 55.5, None, 30], kind="bar"), Series("序时进度", [60, 60, None, 60])],
        y_name="完成率",
        percent=True,
    )


def picture(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


# --- option() -----------------------------------------------------------------------------------


def test_line_and_bar_option_with_gaps_and_percent():
    option = completion().option()

    assert option["title"]["text"] == "各单位任务完成率"
    assert option["tooltip"]["trigger"] == "axis"
    assert option["legend"]
    assert option["grid"]
    assert option["xAxis"] == {"type": "category", "data": UNITS, "axisLabel": {"hideOverlap": True}}
    assert option["yAxis"]["type"] == "value"
    assert option["yAxis"]["name"] == "完成率"
    assert option["yAxis"]["axisLabel"]["formatter"] == "{value}%"
    bar, line = option["series"]
    assert (bar["name"], bar["type"], bar["data"]) == ("完成率", "bar", [80, 55.5, None, 30])
    assert (line["name"], line["type"], line["data"]) == ("序时进度", "line", [60, 60, None, 60])
    assert line["connectNulls"] is False  # a gap stays a gap
    assert "stack" not in bar and "stack" not in line


def test_plain_option_stacks_and_turns_many_labels():
    days = [f"7月{d}日" for d in range(1, 11)]
    chart = Chart(
        "每日出动警力",
        days,
        [Series("城东", list(range(10)), "bar", stack="警力"), Series("城西", [1] * 10, "bar", stack="警力")],
    )
    option = chart.option()

    assert "axisLabel" not in option["yAxis"]  # not a percent: no formatter
    assert option["yAxis"]["name"] == ""
    assert [s["stack"] for s in option["series"]] == ["警力", "警力"]
    assert option["xAxis"]["axisLabel"]["rotate"] == 30


def test_option_is_plain_json():
    """Decimals from aggregates become numbers, NaN and infinity gaps; strings only, no JS functions."""
    chart = Chart("趋势", ["a", "b", "c", "d"], [Series("值", [Decimal("1.5"), float("nan"), float("inf"), 2])])
    option = chart.option()

    assert option["series"][0]["data"] == [1.5, None, None, 2]
    text = json.dumps(option, allow_nan=False, ensure_ascii=False)
    assert json.loads(text) == option
    assert "function" not in text and "=>" not in text


def test_lazy_titles_and_names_become_strings():
    from django.utils.translation import gettext_lazy

    option = Chart(gettext_lazy("Statistics"), ["a"], [Series(gettext_lazy("Findings"), [1])]).option()
    json.dumps(option)


def test_wrong_shapes_are_refused():
    with pytest.raises(ValueError, match="2 values for 3"):
        Chart("x", ["a", "b", "c"], [Series("s", [1, 2])])
    with pytest.raises(ValueError, match="kind"):
        Series("s", [1], kind="pie")


# --- png() --------------------------------------------------------------------------------------


def test_png_is_a_real_picture():
    data = png(completion(), width=640, height=300)

    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = picture(data)
    assert image.format == "PNG"
    assert image.size == (640, 300)
    colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 20  # bars, line, text, grid: not blank
    assert max(count for count, _ in colours) < 0.95 * 640 * 300  # not all background


def test_default_size():
    assert picture(png(completion())).size == (900, 420)


def test_different_data_different_pictures():
    other = completion()
    other.series[0].values = [10, 95, 40, None]
    assert png(other) != png(completion())


def changed(a: Chart, b: Chart) -> tuple[int, int, int, int]:
    """The box (left, top, right, bottom) in which the two charts' pictures differ."""
    box = ImageChops.difference(picture(png(a)).convert("RGB"), picture(png(b)).convert("RGB")).getbbox()
    assert box, "the pictures are the same"
    return box


def test_chinese_title_is_drawn():
    untitled = completion()
    untitled.title = ""
    assert png(completion()) != png(untitled)

    # Same length, same layout: only the glyphs differ, and they differ where the title is.
    retitled = completion()
    retitled.title = "整改问题销号比率"
    assert len(retitled.title) == len(completion().title)
    left, _, right, bottom = changed(retitled, completion())
    assert bottom < 0.1 * 420 and right - left > 100 and left < 450 < right


def test_small_chinese_labels_are_drawn_in_place():
    """Axis labels (9 pt) and legend (10 pt), at sizes where AR PL UMing has embedded bitmaps: matplotlib 3.11
    would draw those glyphs in the bottom left corner. In place, they change the picture along the axis."""
    renamed = completion()
    renamed.x = ["西山派出所", "城关派出所", "东湖派出所", "治安大队长"]  # same lengths, other glyphs
    left, top, right, bottom = changed(renamed, completion())
    assert top > 0.85 * 420 and right - left > 0.6 * 900

    legend = completion()
    legend.series[1].name = "计划进度"
    left, top, right, bottom = changed(legend, completion())
    assert bottom < 0.2 * 420 and left > 0.5 * 900


def test_empty_chart_draws():
    assert picture(png(Chart("", [], []))).size == (900, 420)


def test_threads_draw_the_same_picture():
    chart = completion()
    with ThreadPoolExecutor(4) as pool:
        pictures = list(pool.map(lambda _: png(chart, width=480, height=240), range(8)))
    assert len(set(pictures)) == 1


def test_missing_font_says_what_to_install(settings):
    settings.NOTICE_PDF_FONT = "/nonexistent/uming.ttc"
    with pytest.raises(ChartFontMissing, match="fonts-arphic-uming"):
        png(completion())


# --- static files and templates -----------------------------------------------------------------


def test_echarts_is_vendored():
    folder = STATIC / "vendor" / "echarts"
    script = (folder / "echarts.min.js").read_text(encoding="utf-8")
    assert script.lstrip().startswith("/*\n* Licensed to the Apache Software Foundation")
    assert "echarts" in script[:100_000]
    version = (folder / "VERSION").read_text().split()[1]
    assert version == "6.1.0"
    assert f't.version="{version}"' in script
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "Apache ECharts" in (folder / "NOTICE").read_text()
    assert (folder / "LICENSE-d3").is_file()
    assert "sourceMappingURL" not in script  # nothing for the manifest storage to look for


def test_charts_js_has_no_eval():
    script = (STATIC / "js" / "charts.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", script, flags=re.S)  # comments may mention the words
    assert not re.search(r"\beval\s*\(", code)
    assert not re.search(r"\bnew\s+Function\b|\bFunction\s*\(", code)
    assert not re.search(r"set(Timeout|Interval)\s*\(\s*['\"]", code)
    assert "innerHTML" not in code
    assert "DOMContentLoaded" in code and "htmx:afterSettle" in code and "resize" in code
    assert "JSON.parse" in code and "echarts.init" in code and "setOption" in code


def test_chart_snippet_renders_element_and_json():
    html = render_to_string("boards/_chart.html", {"chart_id": "c1", "option": completion().option()})

    assert '<div class="chart" data-chart="c1-data"></div>' in html
    found = re.search(r'<script id="c1-data" type="application/json">(.*?)</script>', html, re.S)
    assert found
    assert json.loads(found.group(1)) == completion().option()
    assert html.count("<script") == 1


def test_chart_scripts_snippet_and_base_block():
    html = render_to_string("boards/_chart_scripts.html")
    tags = re.findall(r"<script [^>]*></script>", html)
    assert tags == [
        f'<script src="{settings.STATIC_URL}vendor/echarts/echarts.min.js" defer></script>'.replace("//", "/"),
        f'<script src="{settings.STATIC_URL}js/charts.js" defer></script>'.replace("//", "/"),
    ]
    source = get_template("base.html").template.source  # compiles: one scripts block only
    assert source.count("{% block scripts %}") == 1
    assert source.index("{% block scripts %}") > source.index("htmx.min.js") > 0
    assert source.index("{% block scripts %}") < source.index("</head>")
