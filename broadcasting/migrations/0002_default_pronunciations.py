"""Every commune starts with the usual readings of abbreviations and units (UBND, BHYT, km …);
its radio operator edits them afterwards."""
from django.db import migrations


def load(apps, schema_editor):
    from broadcasting.pronunciations import load_default_pronunciations

    load_default_pronunciations(apps.get_model("broadcasting", "Pronunciation"))


class Migration(migrations.Migration):
    dependencies = [("broadcasting", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
