"""Background XLSX exports (导出): the kinds a user may ask for, the job's work, the download. The
request that queues the job is ``boards.services.request_export``: this module is below the job
(``boards.jobs`` imports it, never the reverse).

A *kind* checks its parameters against the user's scope when asked (``validate``: out of scope is a
404, malformed a refusal saying why) and builds the file later in the job, as the same user: every
query of a build goes through ``accounts.scope`` with the requesting user, so an export never holds
more than that user's pages show. Registering a kind is one call::

    register(Kind("ranking", _("Unit ranking"), build_ranking, validate=ranking_params))

The job claims the export with a conditional UPDATE (queued → running, or a running one whose worker
died: its lease ``started_at`` older than ``STALE_AFTER``); every later write is conditional on that
lease, so a superseded run changes nothing. Progress is written at most every ``PROGRESS_STEP`` %.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import FileResponse, Http404
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from accounts import scope
from audit import services as audit
from stats import numbers
from stats import queries as stats
from stats.models import Kind as StatKind
from stats.sheets import number_format
from tasks.models import Assignment as Work
from tasks.models import AssignmentRole, AssignmentStatus, Comparator
from tasks.queries import overdue_q
from utilities.cn import cn_date, cn_range
from utilities.errors import Refused
from utilities.uploads import download, open_stored, safe_name

from . import xlsx
from .charts import daily_chart, png
from .forms import Asked, BoardForm, StatsForm, asked
from .models import Export, ExportStatus
from .queries import Cell, battle_board
from .ranking import MEASURES, ranking

log = logging.getLogger(__name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_TYPE = "application/zip"
# what a build may make, by its file name's ending: a spreadsheet, or an archive (documents.archive)
FILE_TYPES = {"xlsx": XLSX_TYPE, "zip": ZIP_TYPE}
PROGRESS_STEP = 5  # percent between two progress writes
MAX_PENDING = 3  # exports one user may have waiting or being prepared at once
SOFT_TIME_LIMIT = 600  # seconds: the job stops the build and says so (boards/jobs.py)
TIME_LIMIT = 660
STALE_AFTER = timedelta(seconds=TIME_LIMIT + 60)  # a running export older than this lost its worker

Progress = Callable[[int], None]
Build = Callable[[Any, dict, Progress], tuple[str, bytes]]
Validate = Callable[[Any, dict], dict]


class ExportError(Refused):
    """An export the rules refuse, or a build that cannot go on; the message is for the user."""


@dataclass(frozen=True)
class Kind:
    slug: str
    title: str | Promise  # lazily translated
    build: Build  # (user, params, progress) -> (file name, xlsx or zip bytes); runs in the job
    validate: Validate | None = None  # (user, raw params) -> the params to keep (JSON); raises


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    if KINDS.get(kind.slug, kind) is not kind:
        raise ValueError(f"export kind {kind.slug!r} is registered twice")
    KINDS[kind.slug] = kind
    return kind


def title_of(slug: str) -> str:
    kind = KINDS.get(slug)
    return str(kind.title) if kind else slug


# --- reads -------------------------------------------------------------------------------------------


def exports_of(user) -> QuerySet[Export]:
    """The user's own exports, newest first: nobody else's, whatever the role."""
    if user is None or not user.is_authenticated:
        return Export.objects.none()
    return Export.objects.filter(user=user).order_by("-created_at", "-id")


# --- the job -----------------------------------------------------------------------------------------


class _Reporter:
    """The progress callback a build gets: writes only forward, only every few percent, only while
    this run holds the lease."""

    def __init__(self, export_id: int, lease):
        self.export_id, self.lease, self.written = export_id, lease, 0

    def __call__(self, percent: int) -> None:
        percent = max(0, min(99, int(percent)))  # 100 is written with the file
        if percent < self.written + PROGRESS_STEP:
            return
        Export.objects.filter(
            pk=self.export_id, status=ExportStatus.RUNNING, started_at=self.lease, progress__lt=percent
        ).update(progress=percent)
        self.written = percent


def _refused(exc: BaseException) -> bool:
    """The rules refused the export: its words are for the user. A full disk (507) is the server's fault."""
    return isinstance(exc, Refused) and exc.status_code < 500


def _failure(exc: BaseException) -> str:
    """What the user reads when a build fails: the refusal's own words, else a plain sentence."""
    if _refused(exc):
        return str(exc)[:500]
    if isinstance(exc, (Http404, PermissionDenied)):
        return "要导出的专项行动或单位已不在您的职责范围内"
    if isinstance(exc, SoftTimeLimitExceeded):
        return "导出用时过长，已停止；请缩小范围（如选择下级单位或一条行动）后重试"
    return "导出失败，请稍后重试；仍然失败请联系系统管理员"


def stalled_exports(*, now: datetime | None = None) -> list[int]:
    """The exports whose message may be lost (a Redis restart loses the queue): every one still queued, and
    every running one whose lease is older than the hard time limit. Sending their message again is safe:
    the claim lets one run take each export, and skips the others."""
    now = now or timezone.now()
    stalled = Q(status=ExportStatus.QUEUED) | Q(status=ExportStatus.RUNNING, started_at__lt=now - STALE_AFTER)
    return list(Export.objects.filter(stalled).order_by("pk").values_list("pk", flat=True))


def make_export(*, export_id: int) -> str:
    """The job's work: claim the export, build the file as the requesting user, store it. Returns what
    happened: done, failed, or skipped (already taken, finished, or gone)."""
    lease = timezone.now()
    claimable = Q(status=ExportStatus.QUEUED) | Q(status=ExportStatus.RUNNING, started_at__lt=lease - STALE_AFTER)
    if not Export.objects.filter(claimable, pk=export_id).update(
        status=ExportStatus.RUNNING, started_at=lease, progress=0, message=""
    ):
        return "skipped"
    export = Export.objects.select_related("user").get(pk=export_id)
    mine = Export.objects.filter(pk=export_id, status=ExportStatus.RUNNING, started_at=lease)
    storage = Export._meta.get_field("file").storage
    stored = ""
    try:
        kind = KINDS.get(export.kind)
        if kind is None:
            raise ExportError("这种导出已不再提供")
        # a fresh user object: its scope is computed now, from the grants it holds now
        user = type(export.user).objects.get(pk=export.user_id)
        with translation.override(settings.LANGUAGE_CODE):  # the office's document language
            filename, data = kind.build(user, dict(export.params), _Reporter(export_id, lease))
        filename = safe_name(filename)
        name = Export._meta.get_field("file").generate_filename(export, f"{uuid.uuid4().hex}.{_ext(filename)}")
        stored = storage.save(name, ContentFile(data))
        with transaction.atomic():
            if not mine.update(
                status=ExportStatus.DONE,
                progress=100,
                file=stored,
                filename=filename,
                size=len(data),
                finished_at=timezone.now(),
            ):
                raise _Superseded
            audit.record([audit.event(export, "export.done", changes={"size": len(data)}, source="boards.run_export")])
        return "done"
    except _Superseded:
        storage.delete(stored)
        return "skipped"
    except Exception as exc:  # every failure ends as a message for the user; the trace goes to the log
        if stored:
            storage.delete(stored)
        message = _failure(exc)
        if not (_refused(exc) or isinstance(exc, (Http404, PermissionDenied, SoftTimeLimitExceeded))):
            log.exception("export %s (%s) failed", export_id, export.kind)
        with transaction.atomic():
            if mine.update(status=ExportStatus.FAILED, message=message, finished_at=timezone.now()):
                audit.record(
                    [audit.event(export, "export.failed", changes={"message": message}, source="boards.run_export")]
                )
        return "failed"


def _ext(filename: str) -> str:
    """The stored file's ending: the build's own when it is one of ``FILE_TYPES``, else xlsx."""
    ext = filename.rsplit(".", 1)[-1].lower()
    return ext if ext in FILE_TYPES else "xlsx"


class _Superseded(Exception):
    """Another run took the export over (this one's lease expired)."""


def expire_exports(*, now: datetime | None = None) -> int:
    """Clear the files of exports finished more than ``EXPORT_KEEP_DAYS`` ago: a spreadsheet of police
    data should not lie on disk for ever. The row stays (who exported what, when) as EXPIRED; the file
    goes after the commit, so a failed transaction never leaves a row pointing at nothing."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EXPORT_KEEP_DAYS)
    storage = Export._meta.get_field("file").storage
    old = Export.objects.filter(status=ExportStatus.DONE, finished_at__lt=cutoff)
    cleared = 0
    while batch := list(old.order_by("pk").only("pk", "kind", "filename", "file")[:500]):
        with transaction.atomic():
            Export.objects.filter(pk__in=[e.pk for e in batch], status=ExportStatus.DONE).update(
                status=ExportStatus.EXPIRED, file="", message="文件已过保存期限并已清除，如需请重新导出"
            )
            audit.record(
                audit.event(e, "export.expired", changes={"file": e.file.name}, source="boards.purge_exports")
                for e in batch
            )
            names = [e.file.name for e in batch if e.file]
            transaction.on_commit(lambda names=names: [storage.delete(name) for name in names])
        cleared += len(batch)
    return cleared


def download_response(export: Export) -> FileResponse:
    """The file as a download the browser will not render. Call it only for the export's owner."""
    ext = _ext(export.file.name)
    response = FileResponse(open_stored(export.file), content_type=FILE_TYPES[ext])
    return download(response, export.filename, fallback=f"export-{export.pk}.{ext}")


# --- the kinds: the battle board and the task ledger -------------------------------------------------


def _asked(user, params: dict, form_class: type[BoardForm] = BoardForm) -> Asked:
    """What a board's parameters ask, checked as the page checks them; no campaign to show is refused."""
    form, a = asked(user, {k: v for k, v in params.items() if v not in (None, "")}, form_class)
    if a is None:
        problems = "；".join(f"{field}：{' '.join(errors)}" for field, errors in form.errors.items())
        raise ExportError(f"导出参数有误：{problems}")
    if a.campaign is None or a.unit is None:
        raise ExportError("没有可导出的专项行动")
    return a


def battle_params(user, params: dict) -> dict:
    a = _asked(user, params)
    return {
        "campaign": a.campaign.pk,
        "unit": a.unit.code,
        "action": a.action.pk if a.action else None,
        "due_by": a.due_by.isoformat() if a.due_by else None,
    }


def _pair(c: Cell | None) -> list:
    """Completion (a fraction, shown as the board's one-decimal percent) and overdue; blank without work."""
    if c is None or not c.total:
        return [None, None]
    return [round(c.percent / 100, 4), c.overdue]


def _stem(*parts: str) -> str:
    return "_".join(p for p in parts if p)


def build_battle(user, params: dict, progress: Progress, *, today: date | None = None) -> tuple[str, bytes]:
    """挂图作战进度表: a row per line of action, per column unit its completion and overdue count."""
    a = _asked(user, params)
    today = today or timezone.localdate()
    board = battle_board(user, a.campaign, a.unit, action=a.action, due_by=a.due_by, today=today)
    progress(50)
    columns = [xlsx.Column("行动", 30)]
    for u in board.columns:
        name = "本级" if u.pk == board.unit.pk else (u.short_name or u.name)
        columns += [xlsx.Column(f"{name}\n完成率", 10, xlsx.PERCENT), xlsx.Column(f"{name}\n逾期", 7, xlsx.INTEGER)]
    columns += [xlsx.Column("合计\n完成率", 10, xlsx.PERCENT), xlsx.Column("合计\n逾期", 7, xlsx.INTEGER)]
    rows = [
        [
            f"{r.code} {r.name}",
            *(v for u in board.columns for v in _pair(board.cells.get((r.pk, u.pk)))),
            *_pair(board.row_totals.get(r.pk)),
        ]
        for r in board.rows
    ]
    totals = ["合计", *(v for u in board.columns for v in _pair(board.column_totals.get(u.pk))), *_pair(board.total)]
    subtitle = [f"单位：{a.unit.name}"]
    if a.action:
        subtitle.append(f"行动：{a.action.code} {a.action.name}")
    if a.due_by:
        subtitle.append(f"完成时限：{cn_date(a.due_by)}前")
    subtitle.append(f"统计时间：截至{cn_date(today)}")
    book = Workbook()
    xlsx.sheet(
        book,
        title=f"{a.campaign.name} 挂图作战进度表",
        subtitle="    ".join(subtitle),
        columns=columns,
        rows=rows,
        totals=totals,
        name="挂图作战",
    )
    progress(90)
    filename = _stem(a.campaign.name, "挂图作战", a.unit.short_name or a.unit.name, f"{today:%Y%m%d}") + ".xlsx"
    return filename, xlsx.workbook_bytes(book)


def ledger_params(user, params: dict) -> dict:
    return {"campaign": _asked(user, {"campaign": params.get("campaign")}).campaign.pk}


LEDGER_COLUMNS = [
    xlsx.Column("序号", 7, "0"),
    xlsx.Column("行动", 22),
    xlsx.Column("工作任务", 48),
    xlsx.Column("责任单位", 20),
    xlsx.Column("角色", 7),
    xlsx.Column("完成时限", 15, xlsx.CN_DATE),
    xlsx.Column("状态", 11),
    xlsx.Column("进度", 9, xlsx.PERCENT),
    xlsx.Column("是否逾期", 9),
    xlsx.Column("分解指标", 30),  # a share's amount of every target it names (检查场所30家次；整改隐患5处)
]
LEDGER_CHUNK = 2000
AT_LEAST = (Comparator.GE, Comparator.GT)


def _share(progress, share, item_target, comparator: str, basis: str) -> float | None:
    """Progress against the target, for an "at least" amount (不少于300家次); none for other targets."""
    target = share if share is not None else item_target
    if not target or comparator not in AT_LEAST or basis:
        return None
    return float(progress / target)


@dataclass(frozen=True)
class _ItemWords:
    """What ``share_words`` reads of an item, from a ledger row."""

    item_id: int
    target_metric: str
    target_unit: str


def _share_words(campaign) -> Callable[[_ItemWords, int, Decimal | None], str | None]:
    """A share's words in the ledger (``tasks.targets.share_words``): the campaign's targets and the later
    targets' shares, read once (two queries however many rows)."""
    from tasks.models import Target, TargetShare
    from tasks.targets import share_words

    by_item: dict[int, list[Target]] = {}
    for t in Target.objects.filter(item__campaign=campaign, seq__gt=1).order_by("item_id", "seq"):
        by_item.setdefault(t.item_id, []).append(t)
    later: dict[int, dict[int, Decimal]] = {}
    for pk, target_id, amount in TargetShare.objects.filter(assignment__campaign=campaign).values_list(
        "assignment_id", "target_id", "amount"
    ):
        later.setdefault(pk, {})[target_id] = amount

    def words(item: _ItemWords, pk: int, first: Decimal | None) -> str | None:
        return share_words(item, by_item.get(item.item_id, []), first, later.get(pk, {})) or None

    return words


def build_ledger(user, params: dict, progress: Progress, *, today: date | None = None) -> tuple[str, bytes]:
    """任务台账: every assignment of the campaign in the user's view scope, one row each, read in chunks."""
    campaign = _asked(user, {"campaign": params.get("campaign")}).campaign
    today = today or timezone.localdate()
    work = scope.restrict(Work.objects.filter(campaign=campaign, is_active=True), user)
    total = work.count()
    progress(2)
    fields = (
        "item__action__code",
        "item__action__name",
        "item__code",
        "item__title",
        "unit__name",
        "role",
        "due_date",
        "status",
        "progress",
        "target_share",
        "item__target_value",
        "item__target_comparator",
        "item__target_basis",
        "late",
        "item_id",
        "parent_id",
        "pk",
        "item__target_metric",
        "item__target_unit",
    )
    ordered = work.annotate(late=ExpressionWrapper(overdue_q(today), output_field=BooleanField())).order_by(
        "item__action__seq", "item__action_id", "item__seq", "item_id", "unit__path"
    )
    roles, statuses = dict(AssignmentRole.choices), dict(AssignmentStatus.choices)
    counted = {"accepted": 0, "overdue": 0}
    words = _share_words(campaign)

    def rows() -> Iterator[list]:
        for n, row in enumerate(ordered.values_list(*fields).iterator(chunk_size=LEDGER_CHUNK), start=1):
            action_code, action_name, code, title, unit, role, due, status, done, share, target, cmp, basis, late = row[
                :14
            ]
            item_id, parent_id, pk, metric, measure = row[14:]
            counted["accepted"] += status == AssignmentStatus.ACCEPTED
            counted["overdue"] += late
            yield [
                n,
                f"{action_code} {action_name}",
                f"{code} {title}",
                unit,
                str(roles.get(role, role)),
                due,
                str(statuses.get(status, status)),
                _share(done, share, target, cmp, basis),
                "是" if late else "否",
                words(_ItemWords(item_id, metric, measure), pk, share) if parent_id else None,
            ]
            if n % LEDGER_CHUNK == 0:
                progress(2 + n * 88 // total)

    def totals() -> list:
        accepted, overdue = counted["accepted"], counted["overdue"]
        return ["合计", None, f"共{total}项", None, None, None, f"已验收{accepted}项", None, f"逾期{overdue}项", None]

    book = Workbook(write_only=True)  # streamed: 114,000 rows peaked at 595 MB in normal mode
    xlsx.sheet(
        book,
        title=f"{campaign.name} 任务台账",
        subtitle=f"制表单位：{user.unit.name if user.unit_id else user.get_full_name()}    "
        f"统计时间：截至{cn_date(today)}    共{total}项",
        columns=LEDGER_COLUMNS,
        rows=rows(),
        totals=totals,
        name="任务台账",
    )
    progress(92)
    return _stem(campaign.name, "任务台账", f"{today:%Y%m%d}") + ".xlsx", xlsx.workbook_bytes(book)


register(Kind("battle", _("Battle board"), build_battle, validate=battle_params))
register(Kind("ledger", _("Task ledger"), build_ledger, validate=ledger_params))


# --- the ranking and the results statistics --------------------------------------------------------


def ranking_params(user, params: dict) -> dict:
    a = _asked(user, params)
    return {"campaign": a.campaign.pk, "unit": a.unit.code}


def _fraction(value: float | None) -> float | None:
    return None if value is None else round(value / 100, 4)


def build_ranking(user, params: dict, progress: Progress, *, today: date | None = None) -> tuple[str, bytes]:
    """单位综合排名表, and the laggards called in (通报约谈) on a second sheet."""
    a = _asked(user, params)
    today = today or timezone.localdate()
    r = ranking(user, a.campaign, a.unit, today=today)
    progress(50)
    labels = {
        "completion": "完成率",
        "on_time": "按时完成率",
        "directives": "督办事项按时办结率",
        "overdue": "无逾期率",
        "rectification": "整改及时率",
        "findings": "问题少（相对）",
    }
    columns = [xlsx.Column("名次", 6, xlsx.INTEGER), xlsx.Column("单位", 24), xlsx.Column("综合得分", 10, "0.0")]
    columns += [xlsx.Column(f"{labels[m]}\n权重{r.weights[m]}", 11, xlsx.PERCENT) for m in MEASURES]
    columns += [xlsx.Column(h, 9, xlsx.INTEGER) for h in ("任务数", "已完成", "逾期", "发现问题", "未整改")]
    rows = [
        [
            s.rank,
            s.unit.name,
            s.score,
            *(_fraction(s.measures.get(m)) for m in MEASURES),
            s.total,
            s.done,
            s.overdue,
            s.findings,
            s.open_findings,
        ]
        for s in r.standings
    ]
    book = Workbook()
    subtitle = f"单位：{a.unit.name}    统计时间：截至{cn_date(today)}    综合得分为各项的加权平均（无数据的项不计）"
    xlsx.sheet(
        book, title=f"{a.campaign.name} 单位综合排名", subtitle=subtitle, columns=columns, rows=rows, name="综合排名"
    )
    xlsx.sheet(
        book,
        title="通报约谈单位",
        columns=[
            xlsx.Column("序号", 6, xlsx.INTEGER),
            xlsx.Column("单位", 24),
            xlsx.Column("名次", 6, xlsx.INTEGER),
            xlsx.Column("综合得分", 10, "0.0"),
            xlsx.Column("主要问题", 60),
        ],
        rows=[[n, s.unit.name, s.rank, s.score, "，".join(s.reasons())] for n, s in enumerate(r.laggards, start=1)],
        name="通报约谈",
    )
    progress(90)
    filename = _stem(a.campaign.name, "综合排名", a.unit.short_name or a.unit.name, f"{today:%Y%m%d}") + ".xlsx"
    return filename, xlsx.workbook_bytes(book)


def stats_params(user, params: dict) -> dict:
    a = _asked(user, params, StatsForm)
    w = a.window
    return {
        "campaign": a.campaign.pk,
        "unit": a.unit.code,
        "round": w.round.pk if w.round else None,
        "start": None if w.round else w.start.isoformat(),
        "end": None if w.round else w.end.isoformat(),
    }


def _change(now, before, indicator=None) -> Decimal | str | None:
    """同比/环比 as a fraction for the cell's percent format; a rate's in the words (个百分点)."""
    if indicator is not None and indicator.kind == StatKind.RATE:
        return numbers.words("", indicator, now, before) or None
    return round(Decimal(now - before) / Decimal(before), 4) if before and now is not None else None


def build_stats(user, params: dict, progress: Progress) -> tuple[str, bytes]:
    """战果统计表: per indicator the total, last year's, 同比 and 环比, and per column unit; the rounds; every
    day; and the daily chart as a picture."""
    a = _asked(user, params, StatsForm)
    w = a.window
    t = stats.totals(user, a.campaign, a.unit, w)
    progress(30)
    change = "+0.0%;-0.0%;0.0%"
    columns = [
        xlsx.Column("指标", 16),
        xlsx.Column("计量", 6),
        xlsx.Column("合计", 11, xlsx.INTEGER),
        xlsx.Column("去年同期", 11, xlsx.INTEGER),
        xlsx.Column("同比", 9, change),
        xlsx.Column("上期", 11, xlsx.INTEGER),
        xlsx.Column("环比", 9, change),
    ]
    columns += [
        xlsx.Column("本级" if u.pk == a.unit.pk else (u.short_name or u.name), 10, xlsx.INTEGER) for u in t.columns
    ]
    rows = [
        [
            ln.indicator.name,
            ln.indicator.measure,
            numbers.shown(ln.indicator, ln.total),  # in the measure: money in its 万元, a rate in percent
            numbers.shown(ln.indicator, ln.last_year),
            _change(ln.total, ln.last_year, ln.indicator),
            numbers.shown(ln.indicator, ln.previous),
            _change(ln.total, ln.previous, ln.indicator),
            *(numbers.shown(ln.indicator, ln.by_unit.get(u.pk)) for u in t.columns),
        ]
        for ln in t.lines
    ]
    span = f"{w.round.name}（{cn_range(w.start, w.end)}）" if w.round else f"{cn_date(w.start)}至{cn_date(w.end)}"
    subtitle = f"单位：{a.unit.name}    统计时段：{span}    同比：{cn_date(t.last_year_window.start)}至{cn_date(t.last_year_window.end)}"
    book = Workbook()
    ws = xlsx.sheet(
        book, title=f"{a.campaign.name} 战果统计表", subtitle=subtitle, columns=columns, rows=rows, name="战果统计"
    )
    figure_columns = [3, 4, 6, *range(8, 8 + len(t.columns))]
    for at, ln in enumerate(t.lines, start=4):  # below the title, the subtitle and the header
        if ln.indicator.kind != StatKind.COUNT:
            for col in figure_columns:
                ws.cell(at, col).number_format = number_format(ln.indicator)
    rounds = list(a.campaign.rounds.all())
    by_round = stats.per_round(user, a.campaign, a.unit)
    xlsx.sheet(
        book,
        title="集中统一行动分轮次战果",
        columns=[
            xlsx.Column("轮次", 20),
            xlsx.Column("时间", 14),
            *(xlsx.Column(ln.indicator.name, 11, number_format(ln.indicator)) for ln in t.lines),
        ],
        rows=[
            [
                r.name,
                cn_range(r.start, r.end),
                *(numbers.shown(ln.indicator, by_round.get(r.pk, {}).get(ln.indicator.pk)) for ln in t.lines),
            ]
            for r in rounds
        ],
        name="分轮次",
    )
    progress(60)
    days = stats.series(user, a.campaign, a.unit, w)
    dates = sorted({d for per in days.values() for d in per})
    xlsx.sheet(
        book,
        title="每日战果",
        columns=[
            xlsx.Column("日期", 16, xlsx.CN_DATE),
            *(xlsx.Column(ln.indicator.name, 11, number_format(ln.indicator)) for ln in t.lines),
        ],
        rows=[
            [d, *(numbers.shown(ln.indicator, days.get(ln.indicator.pk, {}).get(d)) for ln in t.lines)] for d in dates
        ],
        name="每日",
    )
    chart = daily_chart("每日战果（集中行动按天均摊）", stats.daily(user, a.campaign, a.unit, w), t.lines[:4])
    xlsx.image(ws, png(chart, width=900, height=380), f"A{len(rows) + 6}")
    progress(90)
    filename = (
        _stem(a.campaign.name, "战果统计", a.unit.short_name or a.unit.name, f"{w.start:%m%d}-{w.end:%m%d}") + ".xlsx"
    )
    return filename, xlsx.workbook_bytes(book)


register(Kind("ranking", _("Unit ranking"), build_ranking, validate=ranking_params))
register(Kind("stats", _("Results statistics"), build_stats, validate=stats_params))
