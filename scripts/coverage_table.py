"""Print branch coverage per app from the .coverage data file scripts/test wrote.

Usage: .venv/bin/python scripts/coverage_table.py [--fail-under N] [--modules-under M]
Statements and branches are summed per top-level package (as coverage.py's own total does), so the
app figures add up to the total coverage prints.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import coverage


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fail-under", type=float, default=0)
    parser.add_argument("--modules-under", type=float, default=0, help="also list the modules below this %%")
    args = parser.parse_args()

    cov = coverage.Coverage()
    cov.load()
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cov.json_report(outfile=out.name)
        files = json.loads(Path(out.name).read_text(encoding="utf-8"))["files"]
    apps: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # statements, missed, branches, missed branches
    weak: list[tuple[float, str]] = []
    for rel, report in sorted(files.items()):
        summary = report["summary"]
        if not summary["num_statements"]:
            continue
        row = apps[rel.split("/", 1)[0]]
        row[0] += summary["num_statements"]
        row[1] += summary["missing_lines"]
        row[2] += summary["num_branches"]
        row[3] += summary["missing_branches"]
        if args.modules_under and summary["percent_covered"] < args.modules_under:
            weak.append((summary["percent_covered"], rel))

    def pct(r: list[int]) -> float:
        total = r[0] + r[2]
        return 100.0 * (total - r[1] - r[3]) / total if total else 100.0

    print(f"{'app':<16}{'stmts':>8}{'miss':>7}{'branch':>8}{'bmiss':>7}{'cover':>8}")
    total = [0, 0, 0, 0]
    for app in sorted(apps):
        r = apps[app]
        total = [a + b for a, b in zip(total, r, strict=True)]
        print(f"{app:<16}{r[0]:>8}{r[1]:>7}{r[2]:>8}{r[3]:>7}{pct(r):>7.1f}%")
    print(f"{'TOTAL':<16}{total[0]:>8}{total[1]:>7}{total[2]:>8}{total[3]:>7}{pct(total):>7.1f}%")
    for covered, rel in sorted(weak):
        print(f"  under {args.modules_under:.0f}%: {rel} {covered:.1f}%")
    if pct(total) < args.fail_under:
        print(
            f"FAIL: total branch coverage {pct(total):.1f}% is under the floor {args.fail_under:.1f}%", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
