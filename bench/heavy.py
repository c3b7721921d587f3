"""Benchmark: the heavy pages and jobs of issue 23 (``manage.py bench_heavy``), on the data a
``bench_lists --keep`` run left in a scratch database (its province, campaign and personas).

Each figure is measured in-process, median of ``--repeat`` runs after one warm-up, and where the
old way can still be run beside the new one both are given:

- ``/api/schema/``: generated per request (the store emptied each time) / served once generated;
- the HQ assignment list's count: exact ``COUNT(*)`` / ``utilities.paging.bounded_count``; the
  first page in ``-updated_at`` order (index ``assignment_updated_order``);
- ``/hotspots/`` as HQ over 300 hotspots (created once, on the bench's own units);
- the ledger (台账) export of the whole campaign: normal openpyxl workbook / write-only, peak
  Python allocation (tracemalloc, its own run) and time;
- the reminder sweep's re-run on the same day: in full (the day's mark removed) / skipping what
  nothing written since can change.
"""

from __future__ import annotations

import statistics
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.core.management.base import CommandError, CommandParser
from django.test import Client
from django.test.utils import override_settings
from openpyxl import Workbook
from rest_framework import serializers

from accounts import scope
from accounts.models import Unit, User
from bench.lists import CODE, SCRATCH, USER_PREFIX
from bench.timing import BenchCommand, traced_peak
from boards import exports
from inspections.models import Hotspot
from notifications import sweep
from notifications.models import SweepDay
from ops import schema
from tasks.models import Assignment, Campaign
from utilities.paging import bounded_count

TODAY = date(2026, 9, 1)
JSON = "application/vnd.oai.openapi+json"


def cpu_ms(call, repeat: int) -> float:
    """Median CPU time of this process per call (``time.process_time``: the machine's load shows less)."""
    call()
    times = []
    for _ in range(repeat):
        started = time.process_time()
        call()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def median_ms(call, repeat: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class Command(BenchCommand):
    scratch = SCRATCH
    help = (
        "Time the heavy pages and jobs of issue 23 (schema, HQ list count and order, hotspots, ledger export, "
        "sweep re-run) on the data of `bench_lists --keep` (run that first, same DATABASE_URL)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=7)
        parser.add_argument("--no-ledger", action="store_true", help="Skip the ledger export (the slowest)")
        self.output_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = options["json"]
        campaign = Campaign.objects.filter(code=CODE).first()
        hq = User.objects.filter(username=f"{USER_PREFIX}hq").first()
        if campaign is None or hq is None:
            raise CommandError(f"No `bench_lists --keep` data here. {SCRATCH.hint}")
        n = options["repeat"]
        out: dict[str, Any] = {"assignments": Assignment.objects.filter(campaign=campaign).count()}
        moment = datetime(2026, 9, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
        with override_settings(ALLOWED_HOSTS=["*"]), time_machine.travel(moment, tick=True):
            client = Client()
            client.force_login(hq)
            parts = [
                ("lead_list", lambda: self._lead_list(n)),
                ("schema", lambda: self._schema(client, n)),
                ("hq_list", lambda: self._hq_list(hq, n)),
                ("hotspots", lambda: self._hotspots(client, campaign, hq, n)),
                ("sweep", lambda: self._sweep(moment, n)),
            ]
            if not options["no_ledger"]:
                parts.append(("ledger", lambda: self._ledger(campaign, hq)))
            for name, part in parts:
                out[name] = part()
                self.progress(f"{name}: {out[name]}")
        if not self.printed_json(out, indent=1):
            self.stdout.write("\n".join(f"{k}: {v}" for k, v in out.items()))

    def _lead_list(self, n: int) -> dict[str, float]:
        """The station lead's list: web CPU per request, now / as before (model instances, not
        ``tasks.rows``; DRF's generic rows; the words rebuilt on every row as ``setdefault`` did)."""
        from accounts import api as accounts_api
        from tasks import api as tasks_api

        lead = User.objects.get(username=f"{USER_PREFIX}station_lead")
        client = Client()
        client.force_login(lead)
        url = "/api/v1/assignments/?mine=true"
        now = cpu_ms(lambda: client.get(url), n * 4)
        saved = (
            tasks_api.AssignmentSerializer.to_representation,
            accounts_api.UnitSerializer.to_representation,
            tasks_api.once_per_request,
            accounts_api.once_per_request,
            tasks_api.rows,
        )
        generic = serializers.ModelSerializer.to_representation

        def per_row(context, key, choices):
            return {k: str(v) for k, v in choices.choices}

        tasks_api.AssignmentSerializer.to_representation = generic
        accounts_api.UnitSerializer.to_representation = generic
        tasks_api.once_per_request = accounts_api.once_per_request = per_row
        tasks_api.rows = lambda: Assignment.objects.select_related("item", "unit", "campaign", "acknowledged_by")
        try:
            before = cpu_ms(lambda: client.get(url), n * 4)
        finally:
            (
                tasks_api.AssignmentSerializer.to_representation,
                accounts_api.UnitSerializer.to_representation,
                tasks_api.once_per_request,
                accounts_api.once_per_request,
                tasks_api.rows,
            ) = saved
        return {"cpu_per_request_ms": round(now, 1), "as_before_ms": round(before, 1)}

    def _schema(self, client: Client, n: int) -> dict[str, float]:
        def fresh() -> None:
            schema._built.clear()
            client.get("/api/schema/", HTTP_ACCEPT=JSON)

        return {
            "generated_per_request_ms": round(median_ms(fresh, max(3, n // 2)), 1),
            "kept_ms": round(median_ms(lambda: client.get("/api/schema/", HTTP_ACCEPT=JSON), n), 1),
        }

    def _hq_list(self, hq: User, n: int) -> dict[str, float]:
        rows = scope.restrict(Assignment.objects.all(), hq)
        page = rows.select_related("item", "unit").order_by("-updated_at", "-id")
        return {
            "exact_count_ms": round(median_ms(rows.count, n), 1),
            "bounded_count_ms": round(median_ms(lambda: bounded_count(rows), n), 1),
            "first_page_by_updated_at_ms": round(median_ms(lambda: list(page[:50]), n), 1),
        }

    def _hotspots(self, client: Client, campaign: Campaign, hq: User, n: int) -> dict[str, Any]:
        if not Hotspot.objects.filter(campaign=campaign).exists():
            units = list(Unit.objects.filter(depth=4).order_by("path")[:300])
            Hotspot.objects.bulk_create(
                Hotspot(
                    campaign=campaign,
                    name=f"挂牌整治点位{k}",
                    area="某街道",
                    problems="治安乱点",
                    unit=u,
                    responsible_name="张三",
                    listed_on=date(2026, 6, 1),
                    deadline=date(2026, 8, 1) + timedelta(days=k % 60),
                    inspect_every_days=3 + k % 5,
                    listed_by=hq,
                )
                for k, u in enumerate(units)
            )
        size = len(client.get("/hotspots/").content)
        return {
            "hotspots": Hotspot.objects.filter(campaign=campaign).count(),
            "page_ms": round(median_ms(lambda: client.get("/hotspots/"), n), 1),
            "page_kb": size // 1024,
        }

    def _sweep(self, moment: datetime, n: int) -> dict[str, float]:
        sweep.run(moment)

        def full() -> None:
            SweepDay.objects.all().delete()
            sweep.run(moment)

        return {
            "rerun_in_full_ms": round(median_ms(full, n), 1),
            "rerun_skipping_ms": round(median_ms(lambda: sweep.run(moment), n), 1),
        }

    def _ledger(self, campaign: Campaign, hq: User) -> dict[str, float]:
        made: dict[str, float] = {}
        for mode, factory in (("normal", lambda **kw: Workbook()), ("write_only", Workbook)):
            exports.Workbook = factory
            try:

                def build() -> None:
                    exports.build_ledger(hq, {"campaign": campaign.pk}, lambda p: None, today=TODAY)

                started = time.perf_counter()
                build()
                made[f"{mode}_s"] = round(time.perf_counter() - started, 1)
                made[f"{mode}_peak_mb"] = round(traced_peak(build).peak_mb)
            finally:
                exports.Workbook = Workbook
        return made
