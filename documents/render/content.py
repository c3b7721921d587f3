"""One content model for both writers (``docx.py``, ``pdf.py``): a document's frame (版头, number, title,
主送, 落款, 抄送, 印发) and its body as a list of blocks, built from the generator of its kind (the
bulletin's figures, a notice's findings) and the clerk's paragraphs.

A block is a dict: ``{"t": "heading", "level": 1-4, "text"}`` (numbered by the writers: 一、（一）1.（1）),
``{"t": "para", "text"}``, ``{"t": "table", "columns": [...], "rows": [[...]]}``, ``{"t": "chart", "chart":
<boards.charts.Chart as a dict>}``. The generated part is ``{"head": {...}, "blocks": [...], "tail":
[...]}`` (the tail follows the clerk's requirements: a notice's deadline sentence). ``compose`` makes the
whole content, ``canonical_text`` the text whose sha256 an issued document keeps.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import date

from boards import bulletin
from boards.charts import Chart, Series
from inspections import notice_pdf
from utilities.cn import cn_date, cn_percent

CN_DIGITS = "〇一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (headings rarely pass a few dozen)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return (CN_DIGITS[tens] if tens > 1 else "") + "十" + (CN_DIGITS[ones] if ones else "")


def label(level: int, n: int) -> str:
    """The number of the ``n``-th heading of ``level`` as GB/T 9704 writes it: 一、（一）1.（1）."""
    return {1: f"{cn_number(n)}、", 2: f"（{cn_number(n)}）", 3: f"{n}.", 4: f"（{n}）"}[level]


def numbered(blocks: list[dict]) -> list[dict]:
    """The blocks with each heading's ``label``; a heading restarts the counts of the levels below it."""
    counts = [0, 0, 0, 0, 0]
    out = []
    for block in blocks:
        if block["t"] == "heading":
            level = block["level"]
            counts[level] += 1
            for below in range(level + 1, 5):
                counts[below] = 0
            block = {**block, "label": label(level, counts[level])}
        out.append(block)
    return out


def lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def paras(text: str) -> list[dict]:
    return [{"t": "para", "text": line} for line in lines(text)]


def chart_of(data: dict) -> Chart:
    return Chart(**{**data, "series": [Series(**s) for s in data["series"]]})


# --- the generators ----------------------------------------------------------------------------------


def bulletin_part(user, campaign, unit, period: bulletin.Period) -> dict:
    """The bulletin's figures as blocks, read as ``user`` as of the period's end (``boards.bulletin``)."""
    ctx = bulletin.bulletin_context(user, campaign, unit, period)
    blocks: list[dict] = [{"t": "heading", "level": 1, "text": "总体进展"}, {"t": "para", "text": ctx["overview"]}]
    if ctx["results"]:
        blocks += [{"t": "heading", "level": 1, "text": "战果统计"}, {"t": "para", "text": ctx["results"]}]
        blocks += [{"t": "para", "text": line} for line in ctx.get("firsts", [])]
    blocks.append({"t": "heading", "level": 1, "text": f"综合排名（截至{ctx['as_of']}）"})
    if ctx["standings"]:
        blocks.append(
            {
                "t": "table",
                "columns": ["名次", "单位", "综合得分", "完成率", "逾期任务", "未整改问题"],
                "rows": [
                    [
                        str(s["rank"]),
                        s["unit"],
                        f"{s['score']:g}",
                        cn_percent(s["completion"]),
                        str(s["overdue"]),
                        str(s["open_findings"]),
                    ]
                    for s in ctx["standings"]
                ],
            }
        )
    if ctx["called"]:
        blocks.append({"t": "para", "text": ctx["called"]})
        blocks += [
            {"t": "para", "text": f"{n}．{x['unit']}：{x['reasons']}。"} for n, x in enumerate(ctx["laggards"], 1)
        ]
    if ctx.get("summoned"):  # the 约谈 held in the period (documents/summons.py)
        blocks.append({"t": "para", "text": ctx["summoned"]})
    blocks.append({"t": "heading", "level": 1, "text": "逾期未完成任务"})
    if ctx["overdue"]:
        blocks += [
            {"t": "para", "text": f"{n}．{o['unit']}：{o['item']}（时限{o['due']}）"}
            for n, o in enumerate(ctx["overdue"], 1)
        ]
        if ctx["overdue_more"]:
            blocks.append({"t": "para", "text": f"另有{ctx['overdue_more']}项逾期任务，详见任务台账。"})
    else:
        blocks.append({"t": "para", "text": "无逾期未完成任务。"})
    blocks += [{"t": "heading", "level": 1, "text": "督导检查"}, {"t": "para", "text": ctx["supervision"]}]
    blocks += [
        {"t": "para", "text": f"{n}．{f['unit']} {f['place']}：{f['description']}（整改期限{f['deadline']}）"}
        for n, f in enumerate(ctx["late_findings"], 1)
    ]
    if ctx.get("cases"):  # 挂牌督办案件
        blocks.append({"t": "para", "text": ctx["cases"]})
        blocks += [
            {"t": "para", "text": f"{n}．{c['code']} {c['title']}（{c['unit']}，限期{c['due']}）"}
            for n, c in enumerate(ctx["late_cases"], 1)
        ]
    blocks += [{"t": "chart", "chart": asdict(c)} for c in ctx["charts"]]
    return {
        "head": {
            "masthead": ctx["masthead"],
            "issuer": ctx["issuer"],
            "title": ctx["title"],
            "addressee": ctx["addressee"].removesuffix("："),
            "opening": ctx["opening"],
            "requirements": "\n".join(ctx["requirements"]),
        },
        "blocks": blocks,
        "tail": [],
        # the laggards named, by unit: what a 约谈 is made from (``documents.summons``)
        "laggards": [{"code": x["code"], "unit": x["unit"], "reasons": x["reasons"]} for x in ctx["laggards"]],
        "as_of": ctx["as_of_day"].isoformat(),
    }


def notice_part(notice) -> dict:
    """A rectification notice's findings as blocks (``inspections.notice_pdf``'s sentences)."""
    ctx = notice_pdf.notice_context(notice)
    blocks = [{"t": "para", "text": ctx["opening"]}]
    blocks += [{"t": "para", "text": f["label"] + f["text"]} for f in ctx["findings"]]
    return {
        "head": {
            "masthead": ctx["issuer"],
            "issuer": ctx["issuer"],
            "title": ctx["title"],
            "addressee": ctx["addressee"],
            "opening": "",
            "requirements": notice.requirements,
        },
        "blocks": blocks,
        "tail": [{"t": "para", "text": ctx["deadline_sentence"]}],
    }


# --- the whole content -------------------------------------------------------------------------------


def compose(document, *, number: str = "", signer: str = "", day: date | None = None) -> dict:
    """The content both writers lay out: the frame and the numbered blocks, the clerk's paragraphs around
    the generated part. ``number``, ``signer`` and ``day`` are the issue's (a draft shows none)."""
    part = document.generated or {"head": {}, "blocks": [], "tail": []}
    head = part.get("head", {})
    issuer = head.get("issuer") or document.issuing_unit.name
    blocks = paras(document.opening) + list(part.get("blocks", []))
    if required := paras(document.requirements):
        if document.kind == "bulletin":
            blocks.append({"t": "heading", "level": 1, "text": "工作要求"})
        blocks += required
    if steps := paras(document.next_steps):
        blocks += [{"t": "heading", "level": 1, "text": "下步工作"}, *steps]
    blocks += list(part.get("tail", []))
    when = cn_date(day) if day else ""
    return {
        "kind": document.kind,
        "masthead": head.get("masthead") or issuer,
        "number": number,
        "issue_no": f"第{document.issue_no}期" if document.kind == "bulletin" and document.issue_no else "",
        "signer": signer,
        "title": document.title,
        "addressee": document.recipients.strip(),
        "blocks": numbered(blocks),
        "attachments": lines(document.attachments),
        "issuer": issuer,
        "date": when,
        "cc": document.cc.strip(),
        "printed": f"{issuer}　{when}印发" if when else f"{issuer}印发",
    }


def block_text(block: dict) -> str:
    if block["t"] == "heading":
        return block["label"] + block["text"]
    if block["t"] == "table":
        return "\n".join("\t".join(row) for row in [block["columns"], *block["rows"]])
    if block["t"] == "chart":
        return f"[图] {block['chart']['title']}"
    return block["text"]


def canonical_text(content: dict) -> str:
    """The document's words in reading order, one item a line: what its hash is of."""
    out = [
        content["masthead"],
        content["issue_no"],
        content["number"],
        content["signer"] and f"签发人：{content['signer']}",
    ]
    out += [content["title"], content["addressee"] and content["addressee"] + "："]
    out += [block_text(b) for b in content["blocks"]]
    out += [f"附件：{n}．{a}" for n, a in enumerate(content["attachments"], 1)]
    out += [content["issuer"], content["date"], content["cc"] and f"抄送：{content['cc']}", content["printed"]]
    return "\n".join(line for line in out if line) + "\n"


def text_hash(content: dict) -> str:
    return hashlib.sha256(canonical_text(content).encode()).hexdigest()
