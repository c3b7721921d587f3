import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Unit, User
from accounts.services import grant_role
from accounts.unitfile import import_units
from boards.models import BoardDelta
from directives.demo import seed_directives
from documents.demo import seed_documents
from inspections.demo import on, seed_supervision
from notifications.demo import seed_reminders
from stats.demo import seed_statistics
from tasks.demo import demo_dates, seed_instructions, seed_progress, write_plan
from tasks.models import Campaign
from tasks.services.plans import import_plan

from ._demo_reset import reset_demo

SEEDS = Path(settings.BASE_DIR) / "seeds"
DEMO_PASSWORD = "demo-2026"
CAMPAIGN = {"name": "江城市公安机关夏季治安打击整治“百日行动”", "code": "XJ2026", "owner": "3303"}


class Command(BaseCommand):
    help = (
        "Load the demo: the city bureau's unit tree, demo users for every role, and the 77-item plan published "
        "as a campaign some weeks in on the given day (default today), with its work, supervision, statistics "
        "and a week of reminders. Run again (any day), it builds the same picture afresh for that day."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--plan", default="plan.xlsx", help="Which seed plan file to import (plan.xlsx, plan.docx, plan.yaml)"
        )
        parser.add_argument("--quiet", action="store_true")
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="The day the demo is as of (YYYY-MM-DD; default today)",
        )

    def handle(self, *args, plan, quiet, today, **options):
        today = today or timezone.localdate()
        start, end = demo_dates(today)
        with transaction.atomic(), tempfile.TemporaryDirectory() as folder:
            units = import_units(path=SEEDS / "units.csv")
            users = self._users()
            if not User.objects.filter(username="admin").exists():
                User.objects.create_superuser("admin", password=DEMO_PASSWORD, name="系统管理员")
            reset_demo(CAMPAIGN["code"], usernames=self._seed_usernames())
            path = write_plan(SEEDS, plan, start, Path(folder))
            # imported and published the Friday before the start, when the plan went out to the units
            published = timezone.make_aware(datetime.combine(start - timedelta(days=3), time(17)))
            with on(published):
                result = import_plan(path=path, publish=True, start=start, end=end, display_name=plan, **CAMPAIGN)
            campaign = Campaign.objects.get(code=CAMPAIGN["code"])
            Campaign.objects.filter(pk=campaign.pk).update(published_at=published, created_at=published)
            campaign.assignments.update(created_at=published, updated_at=published)
            # the board's ledger dated the plan's rows by the clock (today): they went out that Friday, so a
            # bulletin as of any day since counts them (docs/boards.md, "As of a day")
            BoardDelta.objects.filter(campaign=campaign).update(day=timezone.localdate(published))
            seed_progress(campaign, today=today)
            seed_supervision(campaign, today=today)
            seed_statistics(campaign, today=today)
            seed_instructions(campaign, today=today)
            seed_directives(campaign, today=today)
            seed_reminders(today=today)
            seed_documents(campaign, today=today)
        if quiet:
            return
        self.stdout.write(f"演示日期 {today}：行动 {start} 至 {end}，第 {(today - start).days + 1} 天。")
        self.stdout.write(
            f"单位 {Unit.objects.count()} 个（新增 {len(units.created)}），用户 {User.objects.count()} 个（新增 {users}）；"
            f"行动 {result.campaign}：{result.items} 项清单，{result.assignments} 条任务分配。"
        )
        self.stdout.write(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        self.stdout.write(f"  {'admin':<14} 系统管理员（超级用户）")
        seen_roles = set()
        for user in (
            User.objects.filter(username__in=self._seed_usernames()).select_related("unit").prefetch_related("grants")
        ):
            roles = {g.role for g in user.grants.all()}
            key = (frozenset(roles), user.unit.kind if user.unit else "")
            if key in seen_roles:
                continue
            seen_roles.add(key)
            labels = "、".join(g.get_role_display() for g in user.grants.all())
            self.stdout.write(f"  {user.username:<14} {user.name} · {user.unit} {user.title} · {labels}")

    def _seed_usernames(self) -> list[str]:
        return [row["username"] for row in yaml.safe_load((SEEDS / "users.yaml").read_text(encoding="utf-8"))]

    def _users(self) -> int:
        created = 0
        password = make_password(DEMO_PASSWORD)  # hashed once: a million PBKDF2 rounds per user adds up
        units = {u.code: u for u in Unit.objects.all()}
        for row in yaml.safe_load((SEEDS / "users.yaml").read_text(encoding="utf-8")):
            user = User.objects.filter(username=row["username"]).first()
            if user is None:
                user = User(username=row["username"])
                user.password = password
                created += 1
            user.name = row["name"]
            user.unit = units[str(row["unit"])]
            user.title = row.get("title", "")
            user.save()
            for grant in row.get("roles", []):
                grant_role(user=user, role=grant["role"], unit=units[str(grant["unit"])], source="load_demo")
        return created
