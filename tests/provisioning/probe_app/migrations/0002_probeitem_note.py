from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("probe_app", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="probeitem", name="note", field=models.CharField(blank=True, default="", max_length=200),
        ),
    ]
