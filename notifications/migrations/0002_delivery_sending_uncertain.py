import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="status",
            field=models.CharField(
                choices=[("pending", "Pending"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed"),
                         ("uncertain", "Uncertain")],
                default="pending", max_length=10, verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="delivery",
            name="sending_at",
            field=models.DateTimeField(
                blank=True, help_text="When the call to the gateway started (committed before the call).",
                null=True, verbose_name="sending since",
            ),
        ),
        migrations.AddField(
            model_name="delivery",
            name="resent_in",
            field=models.ForeignKey(
                blank=True,
                help_text="An uncertain delivery that an official chose to send again, as this notification.",
                null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="resent_deliveries",
                to="notifications.notification", verbose_name="sent again in",
            ),
        ),
    ]
