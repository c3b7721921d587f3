import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from accounts.models import UnitKind
from tasks.services.plans import import_plan, result_json
from utilities.cn import nest_quotes
from utilities.tables import FileProblems


class Command(BaseCommand):
    help = (
        "Import a campaign plan's responsibility checklist from XLSX, DOCX, CSV, YAML or JSON. "
        "Re-importing updates items by their number and never loses reported progress."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--campaign", dest="name", help="Campaign name (行动名称)")
        parser.add_argument("--code", help="Campaign code; default: matched by name, or made from owner and start")
        parser.add_argument("--start", help="YYYY-MM-DD")
        parser.add_argument("--end", help="YYYY-MM-DD")
        parser.add_argument("--owner", help="Code of the owning headquarters unit")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; write nothing")
        parser.add_argument("--publish", action="store_true", help="Publish: create every unit's assignments")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, file, name, code, start, end, owner, dry_run, publish, format, **options):
        try:
            result = import_plan(
                path=file,
                name=name,
                code=code,
                start=start,
                end=end,
                owner=owner,
                publish=publish,
                dry_run=dry_run,
                by=None,  # the command line runs as the system: no user, no right checked
            )
        except FileProblems as exc:
            if format == "json":
                self.stdout.write(json.dumps(result_json(problems=exc.problems), ensure_ascii=False, indent=2))
            else:
                for problem in exc.problems:
                    self.stderr.write(f"错误 {problem}")
            raise CommandError(f"方案有 {len(exc.problems)} 处错误，未写入任何数据。") from None
        if format == "json":
            self.stdout.write(json.dumps(result_json(result), ensure_ascii=False, indent=2))
            return
        if dry_run:
            self.stdout.write("试运行：以下变更不会写入。")
        for line in result.changes:
            self.stdout.write(f"  {nest_quotes(line)}")
        if not result.changes:
            self.stdout.write("  与已导入的方案相同，没有变更。")
        state = "已发布" if result.published else "草稿"
        self.stdout.write(
            f"行动 {result.campaign}（{state}）：{result.actions} 个行动，{result.items} 项清单，"
            f"{result.assignments} 条任务分配。"
        )
        if result.by_unit_kind:
            kinds = dict(UnitKind.choices)
            with translation.override("zh-hans"):
                per = "，".join(f"{kinds.get(k, k)} {n}" for k, n in result.by_unit_kind.items())
            self.stdout.write(f"  按单位类别：{per}")
