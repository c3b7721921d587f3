# Issue 16: tasks.Action (a line of action) is LineOfAction, no longer the namesake of accounts.scope.Action.
# The table follows the model's name (tasks_action → tasks_lineofaction); the content type is renamed by
# Django alongside, so audit events keep their object.

from django.db import migrations

VERBS = ("add", "change", "delete", "view")


def permissions(old: str, new: str):
    """The admin permissions keep their rows (and so the role groups holding them), renamed: otherwise the
    groups would hold the old codenames and HQ would lose the lines of action in the campaign admin."""

    def rename(apps, schema_editor):
        Permission = apps.get_model("auth", "Permission")
        for verb in VERBS:
            Permission.objects.filter(content_type__app_label="tasks", codename=f"{verb}_{old}").update(
                codename=f"{verb}_{new}"
            )

    return rename


class Migration(migrations.Migration):

    dependencies = [
        ('tasks', '0008_item_target_per'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.RenameModel(old_name='Action', new_name='LineOfAction'),
        migrations.RunPython(permissions("action", "lineofaction"), permissions("lineofaction", "action")),
    ]
