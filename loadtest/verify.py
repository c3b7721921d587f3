"""What ``scripts/loadtest`` checks after the load, in the database the app wrote (run with its
``DATABASE_URL``):

``python -m loadtest.verify writes --writes W --stats S --json OUT``
    Every write locust saw accepted is in the database exactly once, by its token (progress reports
    and findings by ``LT-<hex>`` in their text, figures by their unique value in the audit trail,
    exports by id and finished); none it saw rejected is; an unanswered one is there at most once;
    nothing with a token is there that locust did not send. Each assignment's progress is the sum of
    its reports (no lost update), each report and finding has its one audit event, and each station's
    figure holds the last value its lead reported. Prints the per-endpoint table from locust's CSV.

``python -m loadtest.verify reminders --mail DIR --worker-log LOG …``
    After sweeps sent to the workers: waits (bounded) for the outbox to drain, then every reminder is
    unique, has one message per channel, each message is sent with one successful attempt, and each
    e-mail went out once (its Message-ID counted in the file backend's output). Which worker swept what.

Exit status 1 on any discrepancy. Figures are printed and written to ``--json`` for docs/load.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ops.settings")

import django

django.setup()

from django.db.models import Count, F, Q, Sum  # noqa: E402

from audit.models import AuditEvent  # noqa: E402
from boards.models import Export, ExportStatus  # noqa: E402
from inspections.models import Finding  # noqa: E402
from notifications.models import Channel, DeliveryAttempt, Message, MessageStatus, Reminder  # noqa: E402
from stats.models import Figure  # noqa: E402
from tasks.models import Assignment, ProgressReport  # noqa: E402

TOKEN = re.compile(r"LT-[0-9a-f]{32}")
FIGURE_TOKENS_FROM = 1_000_000_001  # loadtest/locustfile.py: figure values from here on are tokens
WAIT = 180  # seconds: the worker finishing queued exports / delivering the outbox


def until(predicate, what: str, timeout: float = WAIT) -> bool:
    """Poll (the workers are at it) until ``predicate()`` is true; False after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            print(f"  timed out after {timeout:.0f} s waiting for {what}")
            return False
        time.sleep(0.5)
    return True


# --- writes -------------------------------------------------------------------------------------------


def read_writes(path: Path) -> dict[str, list[dict[str, Any]]]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            by_kind[row["kind"]].append(row)
    return by_kind


def compare(kind: str, sent: list[dict[str, Any]], found: Counter, problems: list[str]) -> dict[str, int]:
    """Each accepted token found once, each rejected one not at all, an unanswered one at most once,
    and no token found that was not sent."""
    last = {str(w["token"]): w["outcome"] for w in sent}  # in the order written: the answer follows "sent"
    last = {t: "unknown" if o == "sent" else o for t, o in last.items()}
    outcome = {o: {t for t, said in last.items() if said == o} for o in ("accepted", "rejected", "unknown")}
    missing = sorted(t for t in outcome["accepted"] if found[t] == 0)
    doubled = sorted(t for t, n in found.items() if n > 1)
    stored_rejected = sorted(t for t in outcome["rejected"] if found[t])
    strangers = sorted(set(found) - set().union(*outcome.values()))
    for label, tokens in (
        ("missing", missing),
        ("duplicated", doubled),
        ("rejected but stored", stored_rejected),
        ("stored but never sent", strangers),
    ):
        if tokens:
            problems.append(f"{kind}: {len(tokens)} {label}, e.g. {tokens[:3]}")
    return {
        "accepted": len(outcome["accepted"]),
        "rejected": len(outcome["rejected"]),
        "unknown": len(outcome["unknown"]),
        "found": sum(found[t] for t in outcome["accepted"]),
        "found_once": sum(found[t] == 1 for t in outcome["accepted"]),
        "unknown_stored": sum(found[t] == 1 for t in outcome["unknown"]),
    }


def check_writes(writes: dict[str, list[dict[str, Any]]], problems: list[str]) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}

    reports = Counter(
        m.group(0)
        for t in ProgressReport.objects.filter(text__startswith="LT-").values_list("text", flat=True)
        if (m := TOKEN.match(t))
    )
    result["progress reports"] = compare("progress reports", writes.get("report", []), reports, problems)
    findings = Counter(
        m.group(0)
        for t in Finding.objects.filter(description__startswith="LT-").values_list("description", flat=True)
        if (m := TOKEN.match(t))
    )
    result["findings"] = compare("findings", writes.get("finding", []), findings, problems)
    figures = Counter()
    for changes in AuditEvent.objects.filter(verb="figure.report").values_list("changes", flat=True):
        value = (changes.get("value") or [None, None])[1]
        if isinstance(value, int) and value >= FIGURE_TOKENS_FROM:
            figures[str(value)] += 1
    result["figures"] = compare("figures", writes.get("figure", []), figures, problems)

    # exports: made by the worker; each accepted one must finish
    asked = [int(w["token"]) for w in writes.get("export", []) if w["outcome"] == "accepted"]
    finished = Q(status__in=[ExportStatus.DONE, ExportStatus.FAILED])
    until(lambda: Export.objects.filter(pk__in=asked).exclude(finished).count() == 0, "the exports to finish")
    done = Export.objects.filter(pk__in=asked, status=ExportStatus.DONE).count()
    if done != len(asked):
        problems.append(f"exports: {len(asked) - done} of {len(asked)} not done")
    result["exports (worker)"] = {
        "accepted": len(asked),
        "rejected": 0,
        "unknown": 0,
        "found": done,
        "found_once": done,
        "unknown_stored": 0,
    }

    # no lost update: progress is the sum of the reports, every report and finding audited once
    wrong = (
        Assignment.objects.annotate(reported=Sum("reports__value", default=0)).exclude(progress=F("reported")).count()
    )
    if wrong:
        problems.append(f"{wrong} assignments whose progress is not the sum of their reports")
    audited = Counter(AuditEvent.objects.filter(verb="assignment.reported").values_list("changes__report", flat=True))
    unaudited = ProgressReport.objects.exclude(pk__in=[pk for pk, n in audited.items() if n == 1]).count()
    if unaudited:
        problems.append(f"{unaudited} progress reports without exactly one audit event")
    logged = AuditEvent.objects.filter(verb="finding.logged", object_id__in=Finding.objects.values("pk")).count()
    if logged != Finding.objects.count():
        problems.append(f"findings {Finding.objects.count()}, audit events {logged}")

    # each station's figure holds the last value its lead reported (one locust user per account)
    last: dict[str, tuple[float, int]] = {}
    writers: dict[str, set[str]] = defaultdict(set)
    for w in writes.get("figure", []):
        writers[w["unit"]].add(w["who"])
        if w["outcome"] == "accepted" and w["t"] >= last.get(w["unit"], (0.0, 0))[0]:
            last[w["unit"]] = (w["t"], int(w["token"]))
    stored = dict(Figure.objects.filter(value__gte=FIGURE_TOKENS_FROM).values_list("unit__code", "value"))
    stale = [u for u, (_t, v) in last.items() if len(writers[u]) == 1 and stored.get(u) != v]
    if stale:
        problems.append(f"figures: {len(stale)} stations do not hold their last reported value, e.g. {stale[:3]}")
    return result


# --- locust's figures ------------------------------------------------------------------------------------


def read_stats(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows.append(
                {
                    "name": row["Name"] if row["Name"] != "Aggregated" else "all requests",
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "rps": float(row["Requests/s"]),
                    "p50": row["50%"],
                    "p95": row["95%"],
                    "p99": row["99%"],
                    "max": round(float(row["Max Response Time"])),
                }
            )
    return rows


def stats_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| endpoint | requests | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        name = f"**{r['name']}**" if r["name"] == "all requests" else f"`{r['name']}`"
        lines.append(
            f"| {name} | {r['requests']:,} | {r['failures']} | {r['rps']:.1f} | {r['p50']} | {r['p95']} | {r['p99']} | {r['max']:,} |"
        )
    return lines


def writes_table(result: dict[str, dict[str, int]]) -> list[str]:
    lines = [
        "| writes | accepted | found once in the database | rejected (must be absent) | unanswered |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, r in result.items():
        unknown = f"{r['unknown']} ({r['unknown_stored']} stored)" if r["unknown"] else "0"
        lines.append(f"| {kind} | {r['accepted']:,} | {r['found_once']:,} | {r['rejected']} | {unknown} |")
    return lines


# --- reminders -------------------------------------------------------------------------------------------


MESSAGE_ID = re.compile(r"^Message-ID: <(reminder-\d+-email)@", re.MULTILINE)
SWEPT = re.compile(r"Task notifications\.sweep\[[\w-]+\] succeeded in [\d.]+s: \{'batch': '\w+', 'reminders': (\d+)")
DRAINED = re.compile(r"Task notifications\.deliver\[[\w-]+\] succeeded in [\d.]+s: \{'sent': (\d+)")


def check_reminders(mail: Path, worker_logs: list[Path], problems: list[str]) -> dict[str, Any]:
    queued = Q(status__in=[MessageStatus.PENDING, MessageStatus.SENDING])
    until(lambda: Reminder.objects.exists() and not Message.objects.filter(queued).exists(), "the outbox to drain")
    twice = (
        Reminder.objects.values("kind", "subject_type", "subject_id", "occurrence", "recipient")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    per_channel = (
        Message.objects.filter(reminder__isnull=False)
        .values("reminder", "channel")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    unsent = Message.objects.exclude(status=MessageStatus.SENT).count()
    attempts = Counter(DeliveryAttempt.objects.filter(ok=True).values_list("message_id", flat=True))
    not_once = sum(attempts[pk] != 1 for pk in Message.objects.values_list("pk", flat=True))
    emails = {
        f"reminder-{pk}-email"
        for pk in Message.objects.filter(channel=Channel.EMAIL, reminder__isnull=False).values_list(
            "reminder_id", flat=True
        )
    }
    mailed = Counter(m for f in sorted(mail.glob("*")) for m in MESSAGE_ID.findall(f.read_text(errors="replace")))
    for label, n in (
        ("reminders decided twice", twice),
        ("(reminder, channel) with two messages", per_channel),
        ("messages not sent", unsent),
        ("messages without exactly one successful attempt", not_once),
        ("e-mails sent more than once", sum(n > 1 for n in mailed.values())),
        ("e-mail messages never mailed", len(emails - set(mailed))),
        ("mails for no message", len(set(mailed) - emails)),
    ):
        if n:
            problems.append(f"reminders: {n} {label}")
    if not Reminder.objects.exists():
        problems.append("reminders: the sweeps decided nothing (was the seed's work due?)")
    workers = {}
    for log in worker_logs:
        text = log.read_text(errors="replace")
        workers[log.stem] = {
            "sweeps": [int(n) for n in SWEPT.findall(text)],
            "sent": sum(int(n) for n in DRAINED.findall(text)),
        }
    return {
        "reminders": Reminder.objects.count(),
        "messages": dict(Message.objects.values_list("channel").annotate(n=Count("id")).order_by("channel")),
        "emails_in_files": sum(mailed.values()),
        "workers": workers,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    w = sub.add_parser("writes")
    w.add_argument("--writes", type=Path, required=True)
    w.add_argument("--stats", type=Path, required=True, help="locust's <prefix>_stats.csv")
    w.add_argument("--json", type=Path, required=True)
    r = sub.add_parser("reminders")
    r.add_argument("--mail", type=Path, required=True)
    r.add_argument("--worker-log", type=Path, action="append", default=[])
    r.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    problems: list[str] = []
    if args.what == "writes":
        result = check_writes(read_writes(args.writes), problems)
        stats = read_stats(args.stats)
        print("\n".join(["", *stats_table(stats), "", *writes_table(result)]))
        summary = {"stats": stats, "writes": result, "problems": problems}
    else:
        summary = check_reminders(args.mail, args.worker_log, problems)
        summary["problems"] = problems
        print(
            f"\nreminders: {summary['reminders']:,} decided, messages {summary['messages']}, "
            f"{summary['emails_in_files']:,} e-mails in the files"
        )
        for name, did in summary["workers"].items():
            print(f"  {name}: sweeps deciding {did['sweeps']} reminders, {did['sent']:,} messages delivered")
    args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    for p in problems:
        print(f"PROBLEM {p}")
    done = "all writes accounted for" if args.what == "writes" else "each reminder delivered once"
    print("verify:", "FAILED" if problems else done)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
