"""Seed a migrated, empty database for a fault run: the test city, the test plan published over it, and
one unit lead per load thread, each with its own API token. Run in a subprocess on the throwaway
server (``DATABASE_URL``); prints JSON: per person the token and the assignments it may report on.

    python -m tests.faults.seed 6
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import django

# a lead per unit that holds assignments without a cadence (1.1 to the stations, 1.2 to the
# sub-bureaus and the detachment, 2.2 to every unit); several leads share a unit, so their reports
# queue on the same assignment rows
UNITS = ["33031001", "33031002", "330310", "33032001", "330320", "330302"]


def seed(people: int) -> dict:
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # tokens, not passwords

    from rest_framework.authtoken.models import Token

    from accounts.models import Role
    from tasks.models import Assignment, Campaign
    from tasks.services.checkins import CADENCES
    from tasks.services.plans import import_plan
    from tests.conftest import build_tree, make_user
    from tests.tasks.planfiles import CAMPAIGN, write_xlsx

    units = build_tree()
    with tempfile.TemporaryDirectory() as tmp:
        opts = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
        import_plan(path=write_xlsx(Path(tmp) / "plan.xlsx"), publish=True, **opts)
    campaign = Campaign.objects.get(code=CAMPAIGN["code"])
    found = []
    for n in range(people):
        unit = units[UNITS[n % len(UNITS)]]
        user = make_user(f"load_{n}", unit, (Role.UNIT_LEAD, unit), name=f"压测{n}")
        mine = Assignment.objects.filter(campaign=campaign, unit=unit, is_active=True).exclude(
            item__deadline_kind__in=CADENCES
        )
        found.append(
            {"token": Token.objects.create(user=user).key, "assignments": sorted(mine.values_list("pk", flat=True))}
        )
    versions = dict(Assignment.objects.values_list("pk", "version"))
    return {"people": found, "versions": versions}


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    django.setup()
    print(json.dumps(seed(int(sys.argv[1]))))


if __name__ == "__main__":
    main()
