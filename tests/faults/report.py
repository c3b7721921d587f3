"""Print the results table of a fault run from the JSON lines the tests appended (``FAULTS_RESULTS``).

python -m tests.faults.report results.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FAULTS = {
    "test_postgres_restarted_under_load": "1. PostgreSQL restarted under load",
    "test_worker_killed_mid_sweep_and_redis_restarted_every_reminder_once": "2. worker killed mid-sweep, Redis restarted",
    "test_evidence_on_a_full_disk_is_refused_and_leaves_nothing": "3. disk full: evidence (API + page)",
    "test_a_finding_with_photos_on_a_full_disk_is_refused_and_leaves_nothing": "3. disk full: finding photo (API + page)",
    "test_files_cut_off_half_way_are_removed_and_the_upload_goes_through_once_there_is_room": "3. disk nearly full: files cut off",
    "test_the_temporary_upload_directory_full_is_a_clean_507_too": "3. disk full: temporary upload directory",
    "test_two_schedulers_by_mistake_send_nothing_twice": "4. two beat schedulers by mistake",
    "test_backup_and_restore_into_a_fresh_database": "backup → restore into a fresh database",
}


def main(path: str) -> int:
    lines = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    print("| fault | result | s | what was checked afterwards |")
    print("|---|---|---|---|")
    for line in lines:
        name = line["test"].rsplit("::", 1)[-1]
        figures = "; ".join(f"{k}: {v}" for k, v in line["figures"].items()) or line.get("reason", "")
        print(f"| {FAULTS.get(name, name)} | {line['outcome']} | {line['seconds']} | {figures} |")
    return 0 if all(line["outcome"] in ("passed", "skipped") for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
