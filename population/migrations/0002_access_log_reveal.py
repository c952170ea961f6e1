from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("population", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accesslog",
            name="action",
            field=models.CharField(
                choices=[("view", "View"), ("search", "Search"), ("export", "Export"), ("reveal", "Full ID number shown")],
                max_length=10, verbose_name="action",
            ),
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="channel",
            field=models.CharField(
                choices=[("page", "Web page"), ("api", "API"), ("admin", "Administration site")],
                max_length=10, verbose_name="channel",
            ),
        ),
    ]
