"""Charts for the HQ boards: one small model, drawn by ECharts on the pages and by matplotlib as a PNG.

A ``Chart`` is a title, the category labels of the x axis (units, days …) and its ``Series``, lines
or bars, optionally stacked. ``Chart.option()`` is the ECharts option as plain JSON (no JS functions:
the pages render it with ``static/js/charts.js`` under a CSP without 'unsafe-inline' or 'unsafe-eval';
see ``templates/boards/_chart.html``). ``png()`` draws the same chart for exports and bulletins.

The PNG's Chinese text uses the notice PDF's CJK TrueType font, ``settings.NOTICE_PDF_FONT`` (index
``NOTICE_PDF_FONT_INDEX`` of a ``.ttc``; default AR PL UMing CN from Debian's ``fonts-arphic-uming``).
matplotlib is imported on the first ``png()`` only, and used through its object API (``Figure`` and
the Agg canvas, never pyplot): no global backend or rcParams change. Drawing holds a lock, so threads
of one process (a threaded web server) take turns; Celery's prefork workers are separate processes.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import asdict, dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from inspections.notice_pdf import DEFAULT_FONT, FONT_PACKAGE

Number = float | int | None

# ECharts 6's default palette, given explicitly so that the page and the PNG use the same colours.
PALETTE = ["#5070dd", "#b6d634", "#505372", "#ff994d", "#0ca8df", "#ffd10a", "#fb628b", "#785db0", "#3fbe95"]
AXIS_COLOUR = "#6e7079"
SPLIT_COLOUR = "#e0e6f1"
ROTATE_OVER = 6  # more categories than this: the x labels are turned
ROTATE_DEGREES = 30
MAX_PNG_LABELS = 30  # the PNG shows every n-th x label beyond this many
SUPERSAMPLE = 2  # the PNG is drawn this many times larger, then scaled down


class ChartFontMissing(ImproperlyConfigured):
    """No CJK TrueType font where ``NOTICE_PDF_FONT`` says: the PNG cannot show Chinese."""


def _number(value: Any) -> float | int | None:
    """A JSON number, or None for a gap (None, NaN, infinity); Decimals from aggregates become floats."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass
class Series:
    name: str
    values: list[Number]
    kind: Literal["line", "bar"] = "line"
    stack: str | None = None

    def __post_init__(self):
        if self.kind not in ("line", "bar"):
            raise ValueError(f"series {self.name!r}: kind must be 'line' or 'bar', not {self.kind!r}")


@dataclass
class Chart:
    title: str
    x: list[str]
    series: list[Series] = field(default_factory=list)
    y_name: str = ""
    percent: bool = False

    def __post_init__(self):
        for s in self.series:
            if len(s.values) != len(self.x):
                raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(self.x)} x labels")

    @property
    def rotated(self) -> bool:
        return len(self.x) > ROTATE_OVER

    def option(self) -> dict:
        """The ECharts option: JSON only (strings, numbers, None for gaps), for ``json_script``."""
        title = str(self.title)
        top = 8 + (30 if title else 0)  # the legend sits under the title, the plot under both
        x_label: dict[str, Any] = {"hideOverlap": True}
        if self.rotated:
            x_label["rotate"] = ROTATE_DEGREES
        y_axis: dict[str, Any] = {"type": "value", "name": str(self.y_name)}
        if self.percent:
            y_axis["axisLabel"] = {"formatter": "{value}%"}
        series = []
        for s in self.series:
            one: dict[str, Any] = {
                "name": str(s.name),
                "type": s.kind,
                "data": [_number(v) for v in s.values],
                "emphasis": {"focus": "series"},
            }
            if s.kind == "line":
                one.update(connectNulls=False, symbolSize=6)
            else:
                one["barMaxWidth"] = 36
            if s.stack:
                one["stack"] = str(s.stack)
            series.append(one)
        return {
            "color": PALETTE,
            "aria": {"enabled": True},  # a spoken description of the chart, in the page's language
            "title": {"text": title, "left": "center", "textStyle": {"fontSize": 15}},
            # Drawn on the canvas, not as HTML: ECharts' HTML tooltip writes inline style attributes,
            # which a CSP without 'unsafe-inline' strips.
            "tooltip": {"trigger": "axis", "renderMode": "richText", "confine": True},
            "legend": {"type": "scroll", "top": top},
            "grid": {"left": 12, "right": 20, "top": top + 48 if self.y_name else top + 36, "bottom": 12},
            "xAxis": {"type": "category", "data": [str(v) for v in self.x], "axisLabel": x_label},
            "yAxis": y_axis,
            "series": series,
        }


def daily_chart(title: str, daily, lines) -> Chart:
    """The statistics' daily totals (``stats.queries.Daily``) of ``lines``' indicators by the day the work
    was done: a line per indicator over the days outside rounds, and, when a round falls in the window,
    a bar series per indicator holding each round day's share of the round's figures (its daily mean; a
    rate the round's rate) — a round is reported once, on its last day, and would otherwise be a spike."""
    series = [
        Series(line.indicator.name, [daily.by_day.get(line.indicator.pk, {}).get(d) for d in daily.days])
        for line in lines
    ]
    if daily.rounds:
        series += [
            Series(
                _("%(indicator)s (rounds, per day)") % {"indicator": line.indicator.name},
                [daily.spread.get(line.indicator.pk, {}).get(d) for d in daily.days],
                kind="bar",
            )
            for line in lines
            if line.indicator.pk in daily.spread
        ]
    return Chart(title=title, x=[f"{d.month}/{d.day}" for d in daily.days], series=series)


# --- The PNG ----------------------------------------------------------------------------------------

_draw_lock = threading.Lock()


def _font_file():
    """The configured CJK font as matplotlib wants it: a path, or a (path, face) for a later face of a .ttc."""
    path = str(getattr(settings, "NOTICE_PDF_FONT", DEFAULT_FONT))
    index = int(getattr(settings, "NOTICE_PDF_FONT_INDEX", 0))
    if not Path(path).is_file():
        raise ChartFontMissing(
            f"统计图需要中文字体 {path}，未找到：请安装 Debian 软件包 {FONT_PACKAGE}"
            f"（scripts/bootstrap-system），或将 NOTICE_PDF_FONT 设为一个 TrueType 中文字体文件。"
        )
    if index:
        from matplotlib.font_manager import FontPath

        return FontPath(path, index)
    return path


def _stacked(chart: Chart) -> list[tuple[list[float], list[float]]]:
    """Per series, the (bottom, top) of every value: stacks add up positives and negatives apart, as ECharts."""
    sums: dict[tuple[str, bool], list[float]] = {}
    out = []
    for s in chart.series:
        values = [_number(v) for v in s.values]
        bottoms, tops = [], []
        for i, v in enumerate(values):
            if v is None:
                bottoms.append(math.nan)
                tops.append(math.nan)
                continue
            if not s.stack:
                bottoms.append(0.0)
                tops.append(float(v))
                continue
            running = sums.setdefault((s.stack, v >= 0), [0.0] * len(values))
            bottoms.append(running[i])
            running[i] += v
            tops.append(running[i])
        out.append((bottoms, tops))
    return out


PNG_KEPT = 7 * 24 * 3600  # a drawn chart kept in the cache (a bulletin's PDF asked for again draws nothing)


def png(chart: Chart, *, width: int = 900, height: int = 420) -> bytes:
    """``draw_png``, kept in the cache under the chart's content: the same figures are drawn once (a past
    period's bulletin says the same every time it is asked for: docs/boards.md, "As of a day")."""
    from django.core.cache import cache

    content = json.dumps([asdict(chart), width, height, _font_file()], sort_keys=True, default=str)
    key = "chart-png:" + hashlib.sha256(content.encode()).hexdigest()
    drawn = cache.get(key)
    if drawn is None:
        drawn = draw_png(chart, width=width, height=height)
        cache.set(key, drawn, PNG_KEPT)
    return drawn


def draw_png(chart: Chart, *, width: int = 900, height: int = 420) -> bytes:
    """The chart as a PNG of ``width`` × ``height`` pixels, Chinese text in the notice PDF's font.

    Drawn at twice the size and scaled down: smoother, and no text at the pixel sizes (11–16 px) for
    which AR PL UMing carries embedded bitmaps, which matplotlib 3.11's Agg puts in the wrong place
    (matplotlib issue 32063: Chinese from such fonts vanishes at small sizes).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import StrMethodFormatter
    from PIL import Image

    font = _font_file()

    def text(size: float) -> FontProperties:
        return FontProperties(fname=font, size=size)

    n = len(chart.x)
    bar_slots: list[str] = []  # side by side: one slot per stack, or per bar series not stacked
    for number, s in enumerate(chart.series):
        slot = f"stack:{s.stack}" if s.stack else f"series:{number}"
        if s.kind == "bar" and slot not in bar_slots:
            bar_slots.append(slot)
    slot_width = 0.8 / max(len(bar_slots), 1)

    with _draw_lock:
        figure = Figure(figsize=(width / 100, height / 100), dpi=100 * SUPERSAMPLE, facecolor="white")
        figure.set_layout_engine("constrained")
        canvas = FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        keys = []  # the legend in the order of the series (matplotlib would put lines before bars)

        for number, (s, (bottoms, tops)) in enumerate(zip(chart.series, _stacked(chart), strict=True)):
            colour = PALETTE[number % len(PALETTE)]
            if s.kind == "bar":
                slot = bar_slots.index(f"stack:{s.stack}" if s.stack else f"series:{number}")
                offset = (slot - (len(bar_slots) - 1) / 2) * slot_width
                shown = [i for i in range(n) if not math.isnan(tops[i])]
                ax.bar(
                    [i + offset for i in shown],
                    [tops[i] - bottoms[i] for i in shown],
                    width=slot_width * 0.9,
                    bottom=[bottoms[i] for i in shown],
                    color=colour,
                    zorder=2,
                )
                keys.append(Patch(color=colour, label=str(s.name)))
            else:  # NaN breaks the line where a value is missing, as connectNulls=False
                line = {"color": colour, "marker": "o", "markersize": 4, "linewidth": 2}
                ax.plot(range(n), tops, zorder=3, **line)
                keys.append(Line2D([], [], label=str(s.name), **line))

        step = max(1, math.ceil(n / MAX_PNG_LABELS))
        ax.set_xticks(range(n))
        ax.set_xticklabels(
            [str(label) if i % step == 0 else "" for i, label in enumerate(chart.x)],
            fontproperties=text(9),
            rotation=ROTATE_DEGREES if chart.rotated else 0,
            ha="right" if chart.rotated else "center",
            rotation_mode="anchor",
        )
        if n:
            ax.set_xlim(-0.5, n - 0.5)
        if chart.percent:
            ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}%"))
        ax.tick_params(colors=AXIS_COLOUR, labelsize=9, length=0)
        ax.grid(axis="y", color=SPLIT_COLOUR, zorder=0)
        ax.set_axisbelow(True)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.spines["bottom"].set_color(AXIS_COLOUR)
        if chart.y_name:  # above the axis on the left, as ECharts puts it, not turned on its side
            ax.set_title(str(chart.y_name), loc="left", fontproperties=text(9), color=AXIS_COLOUR)
        if chart.series:  # above the plot (constrained layout makes room), right of the axis name
            ax.legend(
                handles=keys,
                loc="lower right" if chart.y_name else "lower center",
                bbox_to_anchor=(1.0, 1.0) if chart.y_name else (0.5, 1.0),
                ncols=min(len(chart.series), 4),
                prop=text(10),
                frameon=False,
            )
        if chart.title:
            figure.suptitle(str(chart.title), fontproperties=text(14))

        drawn = BytesIO()
        canvas.print_png(drawn)
        figure.clear()
    drawn.seek(0)
    with Image.open(drawn) as image:
        small = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    out = BytesIO()
    small.save(out, format="PNG")
    return out.getvalue()
