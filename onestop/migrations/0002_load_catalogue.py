"""Load the shipped procedure catalogue (onestop/data/procedures.yaml) into every commune's
schema (and the template new communes are cloned from); ``manage.py load_procedures`` refreshes
it later. Going back leaves the rows: they may already be referenced by dossiers."""
from django.db import migrations


def load(apps, schema_editor):
    from onestop.catalogue import load_catalogue

    load_catalogue(models=apps)


class Migration(migrations.Migration):

    dependencies = [
        ("onestop", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
