from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BroadcastingConfig(AppConfig):
    name = "broadcasting"
    verbose_name = _("Commune radio")

    def ready(self):
        from communes.modules import Module, register
        from broadcasting.permissions import MODULE_ROLES

        register(Module(
            key="broadcasting", title=_("Commune radio"),
            description=_("Loudspeaker clusters, broadcast slots, bulletins read by a synthetic voice, emergency broadcasts."),
            url_name="broadcasting:home", roles=frozenset(MODULE_ROLES),
        ))
