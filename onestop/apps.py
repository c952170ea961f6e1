from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnestopConfig(AppConfig):
    name = "onestop"
    verbose_name = _("One-stop desk")

    def ready(self):
        from communes.modules import Module, register
        from onestop import checks  # noqa: F401  (registers the system checks)
        from onestop.permissions import MODULE_ROLES

        register(Module(
            key="onestop", title=_("One-stop desk"),
            description=_("Dossiers received at the desk and online, processing, results and statistics."),
            url_name="onestop:home", roles=frozenset(MODULE_ROLES),
        ))
