"""The capacity test's own code (issue 19, item 5), without starting the stack: ``scripts/loadtest
--capacity`` refuses a run longer than 60 s or odd levels before it starts anything, and
``loadtest.capacity`` turns locust's CSV files into the table and the JSON (mix ÷ trivial throughput
against the 50% goal, failures make the exit status 1, a missing level is an error)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from loadtest import capacity

ROOT = Path(__file__).resolve().parents[2]
HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
    "99.99%,100%"
)


def _stats(path: Path, rows: list[tuple[str, int, int, float, int, int, int]]) -> None:
    """locust's _stats.csv: (name, requests, failures, req/s, p50, p95, p99) per row, then Aggregated."""
    lines = [HEADER]
    for name, n, failed, rps, p50, p95, p99 in rows:
        kind = "" if name == "Aggregated" else "GET"
        lines.append(f"{kind},{name},{n},{failed},{p50},{p50},1,{p99},100,{rps},0,{p50},0,0,0,0,{p95},0,{p99},0,0,0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _run(tmp_path: Path, *, mix_failures: int = 0, rates=((10, 60.0, 100.0), (50, 80.0, 200.0))) -> Path:
    # by default 10 users: the mix at 60% of the trivial view; 50 users: at 40%
    tmp_path.mkdir(exist_ok=True)
    for users, mix_rps, trivial_rps in rates:
        _stats(
            tmp_path / f"capacity-mix-{users}_stats.csv",
            [
                ("GET /api/v1/assignments/?mine", 600, mix_failures, mix_rps * 0.6, 40, 120, 200),
                ("GET /api/v1/boards/battle/", 60, 0, mix_rps * 0.4, 90, 300, 400),
                ("Aggregated", 660, mix_failures, mix_rps, 45, 150, 300),
            ],
        )
        _stats(
            tmp_path / f"capacity-trivial-{users}_stats.csv",
            [
                ("GET /api/v1/auth/tokens/", 2000, 0, trivial_rps, 8, 20, 30),
                ("Aggregated", 2000, 0, trivial_rps, 8, 20, 30),
            ],
        )
        (tmp_path / f"capacity-mix-{users}.cpu").write_text(
            "web 13.2\ndb 6.6\nclient 4.5\nload 1.0 2.0 3.0 → 4.0 5.0 6.0\n"
        )
    return tmp_path


def test_the_summary_gives_each_level_its_throughputs_ratio_and_verdict(tmp_path, capsys):
    run = _run(tmp_path)
    out = tmp_path / "capacity.json"
    assert capacity.main(["summary", "--run", str(run), "--levels", "10", "50", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    rows = [line for line in text.splitlines() if line.split("|")[0].strip() in ("10", "50")]
    assert "60.0" in rows[0] and "100.0" in rows[0] and rows[0].rstrip().endswith("60%  met"), rows[0]
    assert "80.0" in rows[1] and "200.0" in rows[1] and rows[1].rstrip().endswith("40%  MISSED"), rows[1]
    assert "the mix per endpoint at 50 users:" in text and "GET /api/v1/boards/battle/" in text
    s = json.loads(out.read_text())
    assert [(lv["users"], lv["ratio"], lv["goal_met"]) for lv in s["levels"]] == [(10, 0.6, True), (50, 0.4, False)]
    mix = s["levels"][0]["mix"]
    assert mix["p95_ms"] == 150 and mix["web_cpu_s"] == 13.2 and mix["client_cpu_s"] == 4.5
    assert mix["web_cpu_ms_per_request"] == pytest.approx(13.2 * 1000 / 660)
    assert mix["db_cpu_s"] == 6.6 and mix["db_cpu_ms_per_request"] == pytest.approx(10.0)
    assert "20.0+10.0" in rows[0]  # gunicorn's + PostgreSQL's CPU per request of the mix
    assert mix["load"] == "1.0 2.0 3.0 → 4.0 5.0 6.0" and s["levels"][0]["trivial"]["web_cpu_s"] is None
    # a lower goal: both levels meet it
    assert capacity.main(["summary", "--run", str(run), "--levels", "10", "50", "--goal", "0.4"]) == 0
    assert "MISSED" not in capsys.readouterr().out


def test_a_failed_request_or_a_missing_level_makes_the_summary_fail(tmp_path, capsys):
    run = _run(tmp_path, mix_failures=3)
    assert capacity.main(["summary", "--run", str(run), "--levels", "10"]) == 1
    assert "3 request(s) failed" in capsys.readouterr().err
    assert capacity.main(["summary", "--run", str(run), "--levels", "10", "230"]) == 1
    assert "capacity-mix-230_stats.csv: missing" in capsys.readouterr().err
    (run / "capacity-trivial-10_stats.csv").write_text(HEADER + "\n")
    assert capacity.main(["summary", "--run", str(run), "--levels", "10"]) == 1
    assert "no 'Aggregated' row" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        capacity.main(["summary", "--run", str(run), "--levels", "0"])
    assert "at least 1" in capsys.readouterr().err


def test_the_medians_of_several_runs_are_the_issues_measure(tmp_path, capsys):
    """Per level the median ratio (with each run's), each side's median throughput and CPU per request by
    part — the load generator's too: an odd run does not decide the verdict."""
    runs = [
        _run(tmp_path / "a", rates=((10, 60.0, 100.0), (50, 80.0, 200.0))),
        _run(tmp_path / "b", rates=((10, 40.0, 100.0), (50, 110.0, 200.0))),
        _run(tmp_path / "c", rates=((10, 45.0, 100.0), (50, 120.0, 200.0))),
    ]
    out = tmp_path / "medians.json"
    argv = ["medians", "--runs", *map(str, runs), "--levels", "10", "50", "--json", str(out)]
    assert capacity.main(argv) == 0
    text = capsys.readouterr().out
    rows = {line.split("|")[0].strip(): line for line in text.splitlines() if "|" in line}
    assert "45%  MISSED" in rows["10"] and "(60% / 40% / 45%)" in rows["10"], rows["10"]
    assert "55%  met" in rows["50"] and "(40% / 55% / 60%)" in rows["50"], rows["50"]
    assert "medians of 3 runs" in text
    m = json.loads(out.read_text())
    assert [(lv["users"], lv["ratio"], lv["goal_met"]) for lv in m["levels"]] == [(10, 0.45, False), (50, 0.55, True)]
    ten = m["levels"][0]
    assert ten["mix"]["rps"] == 45.0 and ten["trivial"]["rps"] == 100.0
    # each run's mix: 660 requests, web 13.2 s, db 6.6 s, client 4.5 s
    assert ten["mix"]["web_cpu_ms_per_request"] == 20.0 and ten["mix"]["client_cpu_ms_per_request"] == 6.82
    assert ten["trivial"]["web_cpu_ms_per_request"] is None  # no .cpu file: unknown, not 0
    assert "20.0+10.0+6.8" in rows["10"]
    # a run without a level, or with a failed request, fails the whole
    assert capacity.main(["medians", "--runs", *map(str, runs), "--levels", "10", "230"]) == 1
    assert "capacity-mix-230_stats.csv: missing" in capsys.readouterr().err
    failed = _run(tmp_path / "d", mix_failures=2)
    assert capacity.main(["medians", "--runs", str(runs[0]), str(failed), "--levels", "10"]) == 1
    assert "2 request(s) failed" in capsys.readouterr().err


def test_the_cpu_of_a_session_counts_its_processes():
    """This test's own session has used CPU (the interpreter, the imports); a session that does not
    exist has used none."""
    assert capacity.session_cpu_seconds({os.getsid(0)}) > 0
    assert capacity.session_cpu_seconds({2**22 + 12345}) == 0
    assert capacity.database_cpu_seconds("no_such_database_here") == 0


def _fake_proc(proc: Path, pid: int, *, session: int, utime: int, cutime: int = 0, title: str = "python") -> None:
    """A /proc/<pid> with a stat line (session, utime, stime 0, cutime) and a process title."""
    (proc / str(pid)).mkdir()
    (proc / str(pid) / "cmdline").write_bytes(title.encode() + b"\0")
    fields = ["S", "1", "1", str(session)] + ["0"] * 7 + [str(utime), "0", str(cutime), "0"] + ["0"] * 10
    (proc / str(pid) / "stat").write_text(f"{pid} (some (odd) name) " + " ".join(fields))


def test_the_cpu_of_sessions_and_of_a_database_counts_their_own_processes(tmp_path):
    """Processes of the sessions count (their own time, not their reaped children's); backends of the
    database (by their process title) count, one of another database does not."""
    ticks = os.sysconf("SC_CLK_TCK")
    _fake_proc(tmp_path, 100, session=100, utime=2 * ticks, cutime=90 * ticks)
    _fake_proc(tmp_path, 101, session=100, utime=ticks // 2)
    _fake_proc(tmp_path, 102, session=7, utime=40 * ticks)
    for pid, db, utime in ((201, "tracker_x", 3 * ticks), (202, "tracker_x", ticks), (203, "tracker_y", 50 * ticks)):
        _fake_proc(tmp_path, pid, session=pid, utime=utime, title=f"postgres: 15/main: postgres {db} 127.0.0.1(5) idle")
    (tmp_path / "self").mkdir()
    assert capacity.session_cpu_seconds({100}, proc=tmp_path) == 2.5
    assert capacity.session_cpu_seconds({100, 7}, proc=tmp_path) == 42.5
    assert capacity.database_cpu_seconds("tracker_x", proc=tmp_path) == 4.0


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--level-duration", "61"], "bounded to 60 s"),
        (["--level-duration", "20s"], "whole seconds"),
        (["--levels", "10 x"], "numbers of users"),
        (["--levels", "10 0"], "numbers of users"),
        (["--scale-out"], "one gunicorn"),
    ],
)
def test_the_script_refuses_odd_capacity_options_before_it_starts_anything(args, said):
    done = subprocess.run(
        [str(ROOT / "scripts" / "loadtest"), "--capacity", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert "== capacity" not in done.stdout  # nothing started, no run directory announced


def test_the_cpu_of_a_database_since_a_moment_counts_growth_and_new_backends(tmp_path):
    """Since a moment: a backend's growth, a new backend's whole time; one gone meanwhile is not there
    to count (never a negative figure)."""
    ticks = os.sysconf("SC_CLK_TCK")
    title = "postgres: 15/main: postgres tracker_x 127.0.0.1(5) idle"
    _fake_proc(tmp_path, 301, session=301, utime=5 * ticks, title=title)
    _fake_proc(tmp_path, 302, session=302, utime=2 * ticks, title=title)
    since = {301: 3 * ticks, 399: 80 * ticks}  # 301 used 2 s since; 399 is gone; 302 is new
    assert capacity.database_cpu_since("tracker_x", since, proc=tmp_path) == 4.0
