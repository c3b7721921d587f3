"""``manage.py reminders``: preview what a sweep would send now, run one, or keep running in-process.

--preview    decide inside a transaction that is rolled back: prints what would be sent, sends nothing
(default)    one sweep and one drain, now
--loop N     sweep and drain every N seconds in this process (the embedded default, without Redis),
             with the daily digest from 08:30 and the weekly summary on Mondays from 08:40 as beat would
"""

from __future__ import annotations

import time
from datetime import time as dtime

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from notifications import delivery, digest, sweep
from notifications.models import Reminder


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Preview or run the reminder sweep and the delivery of queued messages."

    def add_arguments(self, parser):
        parser.add_argument("--preview", action="store_true", help="show what a sweep would send now; send nothing")
        parser.add_argument("--loop", type=int, metavar="SECONDS", help="sweep and deliver every SECONDS, in-process")
        parser.add_argument("--show", type=int, default=20, help="reminders listed by --preview")

    def handle(self, *args, preview, loop, show, **options):
        if preview:
            return self._preview(show)
        if loop:
            self.stdout.write(f"提醒：进程内调度（无需 Redis），每 {loop} 秒扫描并投递一次。Ctrl-C 退出。")
            while True:
                self._once(digests=True)
                time.sleep(loop)
        self._once()

    def _once(self, digests: bool = False):
        outcome = sweep.run()
        written = self._digests() if digests else 0
        drained = delivery.drain()
        if outcome.total or written or drained.sent or drained.failed or drained.dead:
            self.stdout.write(
                f"新提醒 {outcome.total} 条，消息 {dict(outcome.messages)}，汇总 {written} 份；"
                f"已投递 {drained.sent}，待重试 {drained.failed}，失败 {drained.dead}"
            )

    def _digests(self) -> int:
        """The beat schedule's digests, in-process: each is written at most once per period."""
        now = timezone.localtime()
        written = digest.daily() if now.time() >= dtime(8, 30) else 0
        if now.isoweekday() == 1 and now.time() >= dtime(8, 40):
            written += digest.weekly()
        return written

    def _preview(self, show: int):
        try:
            with transaction.atomic():
                outcome = sweep.run()
                rows = list(
                    Reminder.objects.filter(batch=outcome.batch)
                    .select_related("recipient", "unit")
                    .order_by("kind", "due_date", "id")[:show]
                )
                raise _Rollback
        except _Rollback:
            pass
        self.stdout.write(f"此刻扫描将产生提醒 {outcome.total} 条（预览，未发送）：")
        for (subject_type, kind, audience), n in sorted(outcome.reminders.items()):
            if n:
                self.stdout.write(f"  {subject_type:10} {kind:10} → {audience:9} {n}")
        self.stdout.write(f"  消息：{dict(outcome.messages)}；取代旧消息 {outcome.superseded}")
        for r in rows:
            who = r.recipient.get_full_name() or r.recipient.username
            self.stdout.write(
                f"  [{r.colour}] {r.kind} {r.unit.name} {r.get_subject_type_display()}#{r.subject_id} 时限{r.due_date} → {who}"
            )
