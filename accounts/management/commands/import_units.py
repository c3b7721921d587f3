import json

from django.core.management.base import BaseCommand, CommandError

from accounts.unitfile import import_units
from utilities.tables import FileProblems


class Command(BaseCommand):
    help = "Import or update the unit tree from a CSV or XLSX file (单位编码, 单位名称, 上级单位编码, 单位类型)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Check and report; write nothing.")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, file, dry_run, format, **options):
        try:
            result = import_units(path=file, dry_run=dry_run, by=None)  # the command line runs as the system
        except FileProblems as exc:
            if format == "json":
                self.stdout.write(json.dumps({"errors": [p.as_dict() for p in exc.problems]}, ensure_ascii=False))
            else:
                for problem in exc.problems:
                    self.stderr.write(str(problem))
            raise CommandError(f"{len(exc.problems)} 处错误，未写入任何数据。") from None
        summary = result.as_dict()
        if format == "json":
            self.stdout.write(json.dumps({**summary, "dry_run": dry_run}, ensure_ascii=False))
        else:
            prefix = "（试运行，未写入）" if dry_run else ""
            self.stdout.write(
                f"{prefix}新增 {summary['created']} 个单位，更新 {summary['updated']} 个，"
                f"调整上级 {summary['moved']} 个，未变 {summary['unchanged']} 个。"
            )
