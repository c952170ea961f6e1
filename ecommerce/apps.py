from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EcommerceConfig(AppConfig):
    name = "ecommerce"
    verbose_name = _("OCOP marketplace")
