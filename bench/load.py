"""The city a load test signs in to (``manage.py seed_load --out users.json``), used by ``scripts/loadtest``.

江城市公安局 (3303) → 指挥中心, 督察支队 → 10 分局 → 20 派出所 each: 200 stations. One unit lead per
station (``lead_001`` …, with an e-mail address so reminders go out by mail too), 20 city inspectors
(``insp_01`` …), 10 HQ users (``hq_01`` …), all with the same known password. Everything goes through
the real importers and services: ``import_units`` (a CSV written by ``bench.province.write_units_csv``),
``import_plan`` (a YAML plan whose deadlines are placed around today: work overdue, due in one and
three days, weekly check-ins, the rest due at the end), ``grant_role``, then the demo generators
for progress (``tasks.demo.seed_progress``) and results statistics (``stats.demo.seed_statistics``),
so the boards, the ranking and the totals have a campaign part-way done to add up.

The campaign runs from four weeks ago to ten weeks ahead, so "today" is inside it whatever day the
load test runs (the web server's clock cannot be travelled). The default reminder rules get no quiet
hours: a sweep sends mail at once whatever the hour (scripts/loadtest checks each mail went once).

The JSON written to ``--out`` is what locust reads: the campaign, the day figures are reported for,
the password, and the users by role with their units (and, for the leads, an API token: the phone
pages' app stays signed in, so the leads do not sign in during the run).
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import Role, Unit, User
from accounts.services import grant_role
from accounts.unitfile import import_units
from bench.province import PLAN_TARGETS, TOPICS, write_units_csv
from notifications.models import Policy
from stats.demo import seed_statistics
from stats.models import Round
from tasks.demo import seed_progress
from tasks.models import Campaign
from tasks.services.plans import import_plan

CITY = "3303"
CODE = "LOAD"
CAMPAIGN_NAME = "江城市公安机关冬季治安打击整治专项行动（压力测试）"
PASSWORD = "load-test-2026"
SOURCE = "seed_load"
SUBBUREAUS = ("城东", "城西", "城南", "城北", "江北", "江南", "新区", "港区", "高新", "临江")
ACTIONS = (("一", "“清患”行动", "王建国"), ("二", "“攻坚”行动", "李振华"), ("三", "“护航”行动", "刘志强"))


def city_rows(stations: int) -> list[tuple[str, str, str, str]]:
    """The city, two offices, 10 sub-bureaus and ``stations`` stations spread over them."""
    rows = [
        (CITY, "江城市公安局", "", "市局"),
        (f"{CITY}01", "指挥中心", CITY, "中心"),
        (f"{CITY}08", "督察支队", CITY, "支队"),
    ]
    for n, name in enumerate(SUBBUREAUS, start=11):
        rows.append((f"{CITY}{n}", f"{name}分局", CITY, "分局"))
    for s in range(stations):
        sub = s % len(SUBBUREAUS)
        number = s // len(SUBBUREAUS) + 1
        rows.append(
            (f"{CITY}{sub + 11}{number:02d}", f"{SUBBUREAUS[sub]}第{number}派出所", f"{CITY}{sub + 11}", "派出所")
        )
    return rows


def _on(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日前"


def plan(items: int, today: date) -> dict[str, Any]:
    """A plan for 各派出所: item k's deadline cycles through overdue (5 and 2 days ago), due in one and
    in three days, weekly, and the whole campaign — every kind of reminder has work to look at."""
    deadlines = (
        _on(today - timedelta(days=5)),
        _on(today + timedelta(days=3)),
        "每周五前",
        "行动期间",
        _on(today - timedelta(days=2)),
        _on(today + timedelta(days=1)),
        "行动期间",
    )
    actions = [{"code": code, "name": name, "leader": leader, "items": []} for code, name, leader in ACTIONS]
    for k in range(items):
        action = actions[k % len(actions)]
        n = len(action["items"]) + 1
        topic = TOPICS[k % len(TOPICS)]
        action["items"].append(
            {
                "code": f"{k % len(actions) + 1}.{n}",
                "task": f"{action['name'].strip('“”')}：{topic}（第{n}项）",
                "measures": f"围绕{topic}逐单位建立台账，每周汇总进展。",
                "target": PLAN_TARGETS[k % len(PLAN_TARGETS)] or "检查重点场所不少于100家次",
                "lead": "各派出所",
                "leader": action["leader"],
                "deadline": deadlines[k % len(deadlines)],
                "acceptance": "台账完整，按期完成",
            }
        )
    return {"actions": actions}


class Command(BaseCommand):
    help = (
        "Seed an empty database with the load test's city: 200 stations with their leads, 20 inspectors, "
        "10 HQ users (known password), a published campaign around today, progress and statistics. "
        "Writes the users for locust to --out. Used by scripts/loadtest on a database of its own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="JSON file for the locustfile")
        parser.add_argument("--leads", type=int, default=200, help="Stations, one lead each (default 200)")
        parser.add_argument("--inspectors", type=int, default=20)
        parser.add_argument("--hq", type=int, default=10)
        parser.add_argument("--items", type=int, default=30, help="Checklist items for every station (default 30)")
        parser.add_argument("--password", default=PASSWORD)

    def handle(self, *args: Any, **options: Any) -> None:
        if Unit.objects.exists() or Campaign.objects.exists():
            raise CommandError("seed_load fills an empty database (scripts/loadtest makes a new one each run).")
        today = timezone.localdate()
        start, end = today - timedelta(days=28), today + timedelta(days=70)
        with tempfile.TemporaryDirectory(prefix="seed-load-") as tmp:
            units_csv, plan_yaml = Path(tmp) / "units.csv", Path(tmp) / "plan.yaml"
            write_units_csv(units_csv, city_rows(options["leads"]))
            plan_yaml.write_text(yaml.safe_dump(plan(options["items"], today), allow_unicode=True), encoding="utf-8")
            with transaction.atomic():
                import_units(path=units_csv)
                people = self._users(options)
                result = import_plan(
                    path=plan_yaml, name=CAMPAIGN_NAME, code=CODE, start=start, end=end, owner=CITY, publish=True
                )
        campaign = Campaign.objects.get(code=CODE)
        moved = seed_progress(campaign, today=today)
        seed_statistics(campaign, today=today)
        # the demo's rounds are July's; this campaign runs around today, where they would be out of place
        Round.objects.filter(campaign__in=[campaign, campaign.compare_to]).delete()
        # no quiet hours: a sweep's mail goes out at once whatever the hour of the run
        Policy.objects.update_or_create(campaign=None, defaults={"quiet_start": dtime(0), "quiet_end": dtime(0)})
        out = {
            "campaign": campaign.pk,
            "day": today.isoformat(),
            "indicator": campaign.indicators.order_by("seq").values_list("code", flat=True).first(),
            "password": options["password"],
            **people,
        }
        options["out"].write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
        self.stdout.write(
            f"{Unit.objects.count()} units, {User.objects.count()} users, {result.items} items, "
            f"{result.assignments} assignments ({moved} moved along), campaign {campaign.pk} {start}..{end}; "
            f"users for locust in {options['out']}"
        )

    def _users(self, options: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
        password = make_password(options["password"])  # hashed once: PBKDF2 per user would take minutes
        units = {u.code: u for u in Unit.objects.all()}
        stations = sorted(code for code, u in units.items() if u.kind == "station")
        city, office, inspectorate = units[CITY], units[f"{CITY}01"], units[f"{CITY}08"]
        people: dict[str, list[dict[str, str]]] = {"leads": [], "inspectors": [], "hq": []}

        def make(username: str, name: str, unit: Unit, role: str, over: Unit, email: str = "") -> dict[str, str]:
            user = User.objects.create(username=username, password=password, name=name, unit=unit, email=email)
            grant_role(user=user, role=role, unit=over, source=SOURCE)
            made = {"username": username, "unit": over.code}
            if role == Role.UNIT_LEAD:
                made["token"] = Token.objects.create(user=user).key
            return made

        for n, code in enumerate(stations, start=1):
            # leads work from the phone pages' app, which keeps its API token: issued here, so the run
            # measures their work rather than 200 sign-ins at once (inspectors and HQ do sign in)
            people["leads"].append(
                make(
                    f"lead_{n:03d}", f"所长{n:03d}", units[code], Role.UNIT_LEAD, units[code], f"lead_{n:03d}@load.test"
                )
            )
        for n in range(1, options["inspectors"] + 1):
            people["inspectors"].append(make(f"insp_{n:02d}", f"督察{n:02d}", inspectorate, Role.INSPECTOR, city))
        for n in range(1, options["hq"] + 1):
            people["hq"].append(make(f"hq_{n:02d}", f"指挥部{n:02d}", office, Role.HQ, city))
        people["stations"] = [{"unit": code} for code in stations]
        return people
