"""The figures of ``scripts/loadtest --capacity`` (issue 19, item 5), from locust's CSV files; no Django.

``python -m loadtest.capacity summary --run DIR --levels 10 50 230 [--json OUT] [--goal 0.5]``
    Reads ``DIR/capacity-<target>-<users>_stats.csv`` (target ``mix`` or ``trivial``, locust's
    ``--csv``) and ``DIR/capacity-<target>-<users>.cpu`` (``key value`` lines: ``web`` and
    ``client`` CPU seconds, ``load`` the load average before and after) for each level, and prints per
    level: the mix's requests a second and p95, the trivial view's, and the ratio of the two
    throughputs (the goal: the mix reaches ``--goal`` of the trivial view's); then the mix per
    endpoint at the highest level. Exit status 1 if a file is missing or a request failed; a missed
    goal is reported, not an error (the figure is what the run is for).

``python -m loadtest.capacity medians --runs DIR DIR DIR --levels 10 50 230 [--json OUT] [--goal 0.5]``
    The issue's measure: per level, the median over several runs (each a ``summary``'s directory) of
    the ratio, of each side's requests a second, and of each side's CPU per request — gunicorn's,
    PostgreSQL's and the load generator's (locust, on the same cores: its CPU is taken from both sides'
    throughput) — with each run's ratio beside it. Exit status 1 if a run's file is missing or a
    request failed.

``python -m loadtest.capacity cpu [PID …] [--database NAME [--since FILE]]``
    CPU seconds (user + system) used so far by the processes of the given sessions (the process groups
    ``scripts/loadtest`` starts with ``setsid``), from ``/proc``. With ``--database``: PostgreSQL's
    backends serving database NAME, per backend written to ``--since FILE`` when it does not exist yet
    (prints 0), else the CPU they used since that file was written (a backend new since: all of it; one
    gone since: lost, so a lower bound — the app keeps its connections, ``CONN_MAX_AGE``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TARGETS = ("mix", "trivial")
GOAL = 0.5  # the issue: the realistic mix reaches at least half the trivial view's throughput


@dataclass
class Side:
    """One closed-loop run: a target at a number of users."""

    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    web_cpu_s: float | None = None  # gunicorn's CPU during the run
    db_cpu_s: float | None = None  # PostgreSQL's backends serving the run's database
    client_cpu_s: float | None = None  # locust's
    load: str = ""
    endpoints: list[dict[str, Any]] = field(default_factory=list)

    @property
    def web_cpu_ms_per_request(self) -> float | None:
        return self._per_request(self.web_cpu_s)

    @property
    def db_cpu_ms_per_request(self) -> float | None:
        return self._per_request(self.db_cpu_s)

    @property
    def client_cpu_ms_per_request(self) -> float | None:
        return self._per_request(self.client_cpu_s)

    def _per_request(self, seconds: float | None) -> float | None:
        return None if seconds is None or not self.requests else seconds * 1000 / self.requests


@dataclass
class Level:
    users: int
    mix: Side
    trivial: Side

    @property
    def ratio(self) -> float:
        return self.mix.rps / self.trivial.rps if self.trivial.rps else 0.0


def _number(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def read_stats(path: Path) -> Side:
    """locust's ``_stats.csv``: the ``Aggregated`` row, and every endpoint's row."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    total = next((r for r in rows if r["Name"] == "Aggregated"), None)
    if total is None:
        raise ValueError(f"{path}: no 'Aggregated' row (is it locust's --csv _stats.csv?)")
    endpoints = [
        {
            "name": r["Name"],
            "requests": int(r["Request Count"]),
            "failures": int(r["Failure Count"]),
            "rps": round(_number(r["Requests/s"]), 1),
            "p50_ms": _number(r["50%"]),
            "p95_ms": _number(r["95%"]),
        }
        for r in rows
        if r["Name"] != "Aggregated"
    ]
    return Side(
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        rps=round(_number(total["Requests/s"]), 1),
        p50_ms=_number(total["50%"]),
        p95_ms=_number(total["95%"]),
        p99_ms=_number(total["99%"]),
        endpoints=sorted(endpoints, key=lambda e: -e["requests"]),
    )


def read_cpu(path: Path, side: Side) -> None:
    """``web``/``db``/``client`` CPU seconds and ``load`` from the ``.cpu`` file, when there is one."""
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(" ")
        if key in ("web", "db", "client"):
            setattr(side, f"{key}_cpu_s", round(float(value), 2))
        elif key == "load":
            side.load = value.strip()


def read_run(run: Path, levels: list[int]) -> list[Level]:
    out = []
    for users in levels:
        sides = {}
        for target in TARGETS:
            stem = run / f"capacity-{target}-{users}"
            stats = Path(f"{stem}_stats.csv")
            if not stats.exists():
                raise FileNotFoundError(f"{stats}: missing (did locust run for {target} at {users} users?)")
            sides[target] = read_stats(stats)
            read_cpu(Path(f"{stem}.cpu"), sides[target])
        out.append(Level(users, sides["mix"], sides["trivial"]))
    return out


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def table_lines(levels: list[Level], goal: float = GOAL) -> list[str]:
    lines = [
        f"{'users':>5} | {'mix req/s':>9} {'p95 ms':>7} {'CPU ms/req':>11} | "
        f"{'trivial req/s':>13} {'p95 ms':>7} {'CPU ms/req':>11} | {'mix ÷ trivial':>13}  goal ≥ {goal:.0%}",
    ]

    def cpu(side: Side) -> str:
        return f"{_ms(side.web_cpu_ms_per_request)}+{_ms(side.db_cpu_ms_per_request)}"

    for lv in levels:
        verdict = "met" if lv.ratio >= goal else "MISSED"
        lines.append(
            f"{lv.users:>5} | {lv.mix.rps:>9.1f} {lv.mix.p95_ms:>7.0f} {cpu(lv.mix):>11} | "
            f"{lv.trivial.rps:>13.1f} {lv.trivial.p95_ms:>7.0f} {cpu(lv.trivial):>11} | "
            f"{lv.ratio:>13.0%}  {verdict}"
        )
    lines.append(
        "CPU ms/req: gunicorn's + PostgreSQL's (the backends of the run's database) CPU during the run, user + "
        "system, ÷ requests answered"
    )
    for lv in levels:
        for target in TARGETS:
            side: Side = getattr(lv, target)
            lines.append(
                f"  {lv.users:>3} {target:7}: {side.requests:,} requests, {side.failures} failed, p50 "
                f"{side.p50_ms:.0f} / p99 {side.p99_ms:.0f} ms; CPU web {_ms(side.web_cpu_s)} s, db {_ms(side.db_cpu_s)} s, client "
                f"{_ms(side.client_cpu_s)} s; load {side.load or '—'}"
            )
    if levels:
        top = levels[-1]
        lines += ["", f"the mix per endpoint at {top.users} users:"]
        lines += [
            f"  {e['name'][:40]:40} {e['requests']:>7,} {e['rps']:>7.1f}/s  p50 {e['p50_ms']:>6.0f}  p95 {e['p95_ms']:>6.0f} ms"
            + (f"  {e['failures']} FAILED" if e["failures"] else "")
            for e in top.mix.endpoints
        ]
    return lines


def summary(levels: list[Level], goal: float = GOAL) -> dict[str, Any]:
    return {
        "goal_ratio": goal,
        "levels": [
            {
                "users": lv.users,
                "ratio": round(lv.ratio, 3),
                "goal_met": lv.ratio >= goal,
                **{t: _side_summary(getattr(lv, t)) for t in TARGETS},
            }
            for lv in levels
        ],
    }


def _side_summary(side: Side) -> dict[str, Any]:
    return asdict(side) | {
        "web_cpu_ms_per_request": side.web_cpu_ms_per_request,
        "db_cpu_ms_per_request": side.db_cpu_ms_per_request,
        "client_cpu_ms_per_request": side.client_cpu_ms_per_request,
    }


CPU_PARTS = ("web", "db", "client")


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def medians(runs: list[list[Level]], goal: float = GOAL) -> dict[str, Any]:
    """Per level, the medians over ``runs`` (each a run's levels, in the same order): the ratio, each
    side's requests a second and its CPU per request by part; and each run's ratio."""
    out = []
    for at in zip(*runs, strict=True):
        ratio = statistics.median(lv.ratio for lv in at)
        level: dict[str, Any] = {
            "users": at[0].users,
            "ratios": [round(lv.ratio, 3) for lv in at],
            "ratio": round(ratio, 3),
            "goal_met": ratio >= goal,
        }
        for target in TARGETS:
            sides = [getattr(lv, target) for lv in at]
            level[target] = {
                "rps": round(statistics.median(s.rps for s in sides), 1),
                **{
                    f"{part}_cpu_ms_per_request": _round(
                        _median([getattr(s, f"{part}_cpu_ms_per_request") for s in sides])
                    )
                    for part in CPU_PARTS
                },
            }
        out.append(level)
    return {"goal_ratio": goal, "runs": len(runs), "levels": out}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def medians_lines(result: dict[str, Any]) -> list[str]:
    goal = result["goal_ratio"]
    lines = [
        f"medians of {result['runs']} runs; CPU ms a request: gunicorn + PostgreSQL + locust (the load generator, "
        "on the same cores)",
        f"{'users':>5} | {'mix req/s':>9} {'CPU ms/req':>16} | {'trivial req/s':>13} {'CPU ms/req':>16} | "
        f"{'mix ÷ trivial':>13}  goal ≥ {goal:.0%}  (each run)",
    ]

    def cpu(side: dict[str, Any]) -> str:
        return "+".join(_ms(side[f"{part}_cpu_ms_per_request"]) for part in CPU_PARTS)

    for lv in result["levels"]:
        verdict = "met" if lv["goal_met"] else "MISSED"
        each = " / ".join(f"{r:.0%}" for r in lv["ratios"])
        lines.append(
            f"{lv['users']:>5} | {lv['mix']['rps']:>9.1f} {cpu(lv['mix']):>16} | {lv['trivial']['rps']:>13.1f} "
            f"{cpu(lv['trivial']):>16} | {lv['ratio']:>13.0%}  {verdict:6}  ({each})"
        )
    return lines


def _cpu_ticks(stat: str) -> tuple[int, int]:
    """(session, user + system ticks of the process itself) from a /proc stat line. Its waited-for
    children's times (cutime, cstime) are left out: a session leader's hold every command it ever ran."""
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": the state is field 3
    return int(fields[3]), int(fields[11]) + int(fields[12])  # field 6 session; 14, 15 utime, stime


def database_cpu_seconds(database: str, proc: Path = Path("/proc")) -> float:
    """User + system CPU of PostgreSQL's live backends connected to ``database``."""
    return sum(backend_cpu_ticks(database, proc).values()) / os.sysconf("SC_CLK_TCK")


def database_cpu_since(database: str, since: dict[int, int], proc: Path = Path("/proc")) -> float:
    """CPU seconds the backends of ``database`` used since ``since`` (pid → ticks then): a backend's
    growth, a new one's whole time; one gone meanwhile is not counted (a lower bound)."""
    now = backend_cpu_ticks(database, proc)
    return sum(max(0, ticks - since.get(pid, 0)) for pid, ticks in now.items()) / os.sysconf("SC_CLK_TCK")


def backend_cpu_ticks(database: str, proc: Path = Path("/proc")) -> dict[int, int]:
    """pid → user + system ticks of PostgreSQL's live backends connected to ``database`` (their title
    says so: ``postgres: 15/main: user database host(port) state``)."""
    out = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
            if not title or title[0] != "postgres:" or database not in title[2:5]:
                continue
            out[int(entry.name)] = _cpu_ticks((entry / "stat").read_text())[1]
        except (OSError, IndexError):  # gone meanwhile
            continue
    return out


def session_cpu_seconds(sessions: set[int], proc: Path = Path("/proc")) -> float:
    """User + system CPU of every live process in ``sessions``."""
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        session, used = _cpu_ticks(stat)
        if session in sessions:
            total += used
    return total / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.capacity", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summary", help="the table of a run's levels")
    s.add_argument("--run", type=Path, required=True, help="the run's directory (var/loadtest/<time>-capacity)")
    m = sub.add_parser("medians", help="the medians of several runs' levels (the issue's measure)")
    m.add_argument("--runs", type=Path, nargs="+", required=True, help="the runs' directories")
    for tabled in (s, m):
        tabled.add_argument("--levels", type=int, nargs="+", required=True, help="the numbers of users, e.g. 10 50 230")
        tabled.add_argument(
            "--goal", type=float, default=GOAL, help=f"mix ÷ trivial throughput to reach (default {GOAL})"
        )
        tabled.add_argument("--json", type=Path, help="write the figures here too")
    c = sub.add_parser("cpu", help="CPU seconds of process sessions")
    c.add_argument("sessions", type=int, nargs="*", metavar="PID")
    c.add_argument("--database", help="PostgreSQL's backends serving this database instead")
    c.add_argument("--since", type=Path, help="with --database: the backends' CPU then (written when missing)")
    args = parser.parse_args(argv)
    if args.command == "cpu":
        if bool(args.sessions) == bool(args.database):
            parser.error("cpu: either session ids or --database")
        if args.database and args.since and not args.since.exists():
            args.since.write_text(json.dumps(backend_cpu_ticks(args.database)), encoding="utf-8")
            seconds = 0.0
        elif args.database and args.since:
            since = {int(pid): ticks for pid, ticks in json.loads(args.since.read_text(encoding="utf-8")).items()}
            seconds = database_cpu_since(args.database, since)
        elif args.database:
            seconds = database_cpu_seconds(args.database)
        else:
            seconds = session_cpu_seconds(set(args.sessions))
        print(f"{seconds:.2f}")
        return 0
    if bad := [n for n in args.levels if n < 1]:
        parser.error(f"--levels: numbers of users must be at least 1, not {bad}")
    if not 0 < args.goal <= 1:
        parser.error(f"--goal: a share between 0 and 1, not {args.goal}")
    try:
        runs = [read_run(run, args.levels) for run in (args.runs if args.command == "medians" else [args.run])]
    except (OSError, ValueError, KeyError) as e:
        print(f"capacity: {e}", file=sys.stderr)
        return 1
    if args.command == "medians":
        result = medians(runs, args.goal)
        print("\n".join(medians_lines(result)))
    else:
        print("\n".join(table_lines(runs[0], args.goal)))
        result = summary(runs[0], args.goal)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    failed = sum(lv.mix.failures + lv.trivial.failures for levels in runs for lv in levels)
    if failed:
        print(f"capacity: {failed} request(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
