"""Fuzzing (issue 7, docs/fuzzing.md): how many examples, which seed, and the counts printed after a run.

``FUZZ_EXAMPLES`` raises the number of generated examples (``scripts/fuzz`` sets it); without it the
tests run a few, always the same ones, so the default test command stays short and repeatable.
``FUZZ_SEED`` (``scripts/fuzz`` draws one and prints it) makes a run explore other examples; the same
seed and count repeat a run, failure included.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

# ("api", role) / ("api-ops", role) / ("plan", test name) -> examples run or operations fuzzed;
# ("api-status", role, operation, status // 100) -> answers of that class
COUNTS: Counter = Counter()


def examples(default: int) -> int:
    """The examples per test (per operation and role for the API): FUZZ_EXAMPLES, else ``default``."""
    value = os.environ.get("FUZZ_EXAMPLES", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


def fuzz_seed() -> int:
    """The run's seed: 0 (the fixed examples of the test command) unless FUZZ_SEED says otherwise."""
    value = os.environ.get("FUZZ_SEED", "").strip()
    return int(value) if value.isdigit() else 0


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    # Under xdist the counts stay in the workers; the summary is for scripts/fuzz (one process).
    if not COUNTS:
        return
    write = terminalreporter.write_line
    failed = [r for r in terminalreporter.stats.get("failed", []) if "tests/fuzz/" in r.nodeid]
    terminalreporter.section("fuzzing counts")
    write(f"FUZZ_EXAMPLES={examples(0) or '(defaults)'} FUZZ_SEED={fuzz_seed()}")
    api_roles = sorted(key[1] for key in COUNTS if key[0] == "api")
    if api_roles:
        write(f"API operations fuzzed per role: {COUNTS[('api-ops', api_roles[0])]}")
        for role in api_roles:
            answered = {key[2] for key in COUNTS if key[0] == "api-status" and key[1] == role and key[3] == 2}
            write(
                f"  {role:<10} {COUNTS[('api', role)]:>7} examples over {COUNTS[('api-ops', role)]} operations, "
                f"{len(answered)} of them answered 2xx at least once"
            )
        by_class = Counter()
        for key, n in COUNTS.items():
            if key[0] == "api-status":
                by_class[key[3]] += n
        write("  answers: " + ", ".join(f"{k}xx {n}" for k, n in sorted(by_class.items())))
        fuzzed = {key[2] for key in COUNTS if key[0] == "api-status"}
        succeeded = {key[2] for key in COUNTS if key[0] == "api-status" and key[3] == 2}
        if fuzzed - succeeded:
            write("  never answered 2xx, whatever the role: " + "; ".join(sorted(fuzzed - succeeded)))
    plan = sorted(key[1] for key in COUNTS if key[0] == "plan")
    if plan:
        write("plan parser properties:")
        for name in plan:
            write(f"  {name:<60} {COUNTS[('plan', name)]:>6} examples")
    write(f"failed fuzz tests: {len(failed)}")
    for report in failed:
        write(f"  {report.nodeid}")


@pytest.fixture
def fuzz_counts() -> Counter:
    return COUNTS
