"""Load the shipped schedule (workcalendar/data/holidays.yaml) so every installation starts with
the official days off; ``manage.py load_holidays`` refreshes it later."""
from django.db import migrations


def load(apps, schema_editor):
    from workcalendar import loading

    loading.load_schedule(
        loading.read_file(),
        CalendarYear=apps.get_model("workcalendar", "CalendarYear"),
        DayOverride=apps.get_model("workcalendar", "DayOverride"),
        StatutoryHoliday=apps.get_model("workcalendar", "StatutoryHoliday"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("workcalendar", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
