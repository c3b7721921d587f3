from django.core.management.base import BaseCommand

from tasks.planfile.template import write_template


class Command(BaseCommand):
    help = "Write an XLSX template of the responsibility checklist, with the recognised headers and an example."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="量化责任清单模板.xlsx")

    def handle(self, *args, file, **options):
        path = write_template(file)
        self.stdout.write(f"已生成模板：{path}")
