"""Benchmark: a 5-page bulletin's DOCX and PDF (``manage.py bench_documents``, issue 22: "the DOCX and PDF
of a 5-page bulletin under 3 s each").

No database: the bulletin's content is built in the shape ``documents.render.content`` gives an issued
bulletin (版头, 第N期, number and 签发人, title, 主送, the generated part — 总体进展, 战果统计, the ranking
table, the laggards, 逾期, 督导检查, two charts — the requirements, 落款 and 印发), its ranking table
growing until the PDF has ``--pages`` pages (counted by ``pdfinfo``). Then each writer runs ``--runs``
times after a first run (which loads the fonts and the template and draws the charts, then cached):
the first's seconds, and the median and worst of the others.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandParser

from boards.charts import Chart, Series
from documents.render.content import numbered
from documents.render.docx import render_docx
from documents.render.pdf import render_pdf

LIMIT = 3.0  # seconds, each writer (issue 22)


def bulletin_content(units: int) -> dict:
    """A bulletin with a ranking of ``units`` units and as many overdue and findings lines."""
    names = [f"第{n}派出所" for n in range(1, units + 1)]
    weeks = [f"第{n}周" for n in range(1, 11)]
    charts = [
        Chart("各单位任务完成率", names[:12], [Series("完成率", [50 + n * 3 for n in range(12)], "bar")], percent=True),
        Chart(
            "每周查处情况",
            weeks,
            [Series("查处", [n * 7 % 40 + 10 for n in range(10)]), Series("整改", list(range(10)))],
        ),
    ]
    blocks = [
        {"t": "para", "text": "按照市局统一部署，现将专项行动第9周工作情况通报如下："},
        {"t": "heading", "level": 1, "text": "总体进展"},
        {
            "t": "para",
            "text": "截至8月30日，全市共部署任务1,240项，已完成986项，完成率79.5%，较上周提高6.2个百分点；逾期23项。",
        },
        {"t": "heading", "level": 1, "text": "战果统计"},
        {"t": "para", "text": "行动以来，共出动警力12,430人次，检查场所3,216家次，查处治安案件214起，同比上升18.3%。"},
        {"t": "heading", "level": 1, "text": "综合排名（截至2026年8月30日）"},
        {
            "t": "table",
            "columns": ["名次", "单位", "综合得分", "完成率", "逾期", "未整改"],
            "rows": [
                [str(n), name, f"{98 - n * 0.7:.1f}", f"{99 - n * 0.5:.1f}%", str(n % 4), str(n % 3)]
                for n, name in enumerate(names, 1)
            ],
        },
        {"t": "para", "text": "排名靠后的3个单位，由市局通报约谈："},
        *({"t": "para", "text": f"{n}．{names[-n]}：完成率偏低，逾期任务较多，整改不及时。"} for n in (1, 2, 3)),
        {"t": "heading", "level": 1, "text": "逾期未完成任务"},
        *(
            {"t": "para", "text": f"{n}．{names[n - 1]}：重点场所消防安全检查（时限8月{n % 28 + 1}日）"}
            for n in range(1, units // 3 + 1)
        ),
        {"t": "heading", "level": 1, "text": "督导检查"},
        {"t": "para", "text": "本周市局督导组检查单位12个，发现问题37个，已整改29个。"},
        *(
            {
                "t": "para",
                "text": f"{n}．{names[n - 1]} 夜宵摊聚集区：消防通道堵塞，灭火器过期（整改期限9月{n % 28 + 1}日）",
            }
            for n in range(1, units // 3 + 1)
        ),
        *({"t": "chart", "chart": asdict(c)} for c in charts),
        {"t": "heading", "level": 1, "text": "工作要求"},
        *(
            {"t": "para", "text": t}
            for t in (
                "一要压实工作责任。各单位主要负责同志要亲自研究部署，逐项对账销号，确保各项任务按期完成。",
                "二要加强督导检查。对排名靠后、逾期较多的单位，市局将开展专项督导，限期整改。",
                "三要严格信息报送。各单位要按时报送战果数据，确保数据真实准确。",
            )
        ),
    ]
    return {
        "kind": "bulletin",
        "masthead": "江城市公安局专项行动工作通报",
        "number": "江城市通〔2026〕9号",
        "issue_no": "第9期",
        "signer": "陈局长",
        "title": "关于专项行动第9周（8月24日至30日）工作情况的通报",
        "addressee": "江城市公安局各单位",
        "blocks": numbered(blocks),
        "attachments": ["专项行动任务台账"],
        "issuer": "江城市公安局",
        "date": "2026年9月1日",
        "cc": "市委政法委",
        "printed": "江城市公安局办公室　2026年9月1日印发",
    }


def pdf_pages(data: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        pdfinfo = shutil.which("pdfinfo") or "/usr/bin/pdfinfo"  # poppler-utils (scripts/bootstrap-system)
        out = subprocess.run([pdfinfo, f.name], capture_output=True, text=True, check=True).stdout  # noqa: S603
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def sized(pages: int) -> tuple[dict, int]:
    """The bulletin whose PDF has ``pages`` pages (the fewest units that reach it)."""
    units = 12  # the chart names twelve
    while True:
        content = bulletin_content(units)
        got = pdf_pages(render_pdf(content))
        if got >= pages:
            return content, got
        units += 10 if pages - got > 1 else 3


def timed(call, content: dict, runs: int) -> tuple[float, list[float], bytes]:
    start = time.perf_counter()
    call(content)  # the first: fonts, template, the charts' PNGs (then kept in the cache: boards.charts.png)
    first = time.perf_counter() - start
    times, data = [], b""
    for _ in range(runs):
        start = time.perf_counter()
        data = call(content)
        times.append(time.perf_counter() - start)
    return first, times, data


def measure(pages: int = 5, runs: int = 5) -> dict:
    content, got = sized(pages)
    out = {"pages": got, "units": len(content["blocks"][6]["rows"]) if content["blocks"][6]["t"] == "table" else 0}
    for name, call in (("docx", render_docx), ("pdf", render_pdf)):
        first, times, data = timed(call, content, runs)
        out[name] = {"first": first, "median": statistics.median(times), "worst": max(times), "bytes": len(data)}
    return out


class Command(BaseCommand):
    help = "Time the DOCX and PDF of a bulletin of --pages pages (issue 22: under 3 s each)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pages", type=int, default=5)
        parser.add_argument("--runs", type=int, default=5)

    def handle(self, *args, pages: int, runs: int, **options) -> None:
        r = measure(pages, runs)
        self.stdout.write(
            f"bulletin: {r['pages']} PDF pages (pdfinfo), a ranking of {r['units']} units; {runs} runs each"
        )
        for name in ("docx", "pdf"):
            m = r[name]
            verdict = "ok" if max(m["worst"], m["first"]) < LIMIT else f"OVER {LIMIT:g} s"
            self.stdout.write(
                f"{name.upper():4} first {m['first']:.3f} s, then median {m['median']:.3f} s, worst {m['worst']:.3f} s, {m['bytes']:,} bytes — {verdict}"
            )
