from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("broadcasting", "0002_default_pronunciations"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScheduleVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.BigIntegerField(default=0, verbose_name="number")),
                ("changed_at", models.DateTimeField(blank=True, null=True, verbose_name="changed at")),
            ],
            options={
                "verbose_name": "version of the schedule",
                "verbose_name_plural": "versions of the schedule",
            },
        ),
    ]
