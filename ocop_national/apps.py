from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OcopNationalConfig(AppConfig):
    name = "ocop_national"
    verbose_name = _("National OCOP catalogue")
