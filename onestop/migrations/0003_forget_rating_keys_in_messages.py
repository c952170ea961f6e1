"""Messages sent before dossier notices stopped carrying the rating link keep that link's key in
their stored body, which the commune's officials read (notification pages, admin, API). The key
is cut from the stored bodies (``/rate/…/``); the message itself was sent long ago."""
import re

from django.db import migrations

RATING_LINK = re.compile(r"/rate/[0-9A-Fa-f-]{32,36}/?")


def forget_rating_keys(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for pk, message in Notification.objects.filter(message__contains="/rate/").values_list("pk", "message").iterator():
        cleaned = RATING_LINK.sub("/rate/…/", message)
        if cleaned != message:
            Notification.objects.filter(pk=pk).update(message=cleaned)


class Migration(migrations.Migration):

    dependencies = [
        ("onestop", "0002_load_catalogue"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forget_rating_keys, migrations.RunPython.noop),
    ]
