from django.apps import AppConfig


class ProbeAppConfig(AppConfig):
    name = "tests.provisioning.probe_app"
    label = "probe_app"
    default_auto_field = "django.db.models.BigAutoField"
