"""Groups that grant the catalogue permissions: readers read, editors also edit."""

from django.db import migrations

GROUPS = {
    "catalogue readers": ["can_read_book"],
    "catalogue editors": ["can_read_book", "can_edit_book"],
}
NAMES = {
    "can_read_book": "Can read books and reviews",
    "can_edit_book": "Can add, change and delete books",
}


def create_groups(apps, schema_editor):
    # Permissions are normally made after migrating (post_migrate); make them now.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(
        app_label="resources", model="book"
    )
    permissions = {
        codename: Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in NAMES.items()
    }
    for group_name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*(permissions[c] for c in codenames))


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0001_catalogue"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
