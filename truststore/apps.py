from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TruststoreConfig(AppConfig):
    name = "truststore"
    verbose_name = _("Trust store")
