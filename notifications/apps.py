from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from communes.modules import Module, register
        from notifications.permissions import SENDER_ROLES

        register(Module(
            key="notifications", title=_("Notifications"),
            description=_("Send SMS and e-mail to households and follow the delivery."),
            url_name="notifications:list", roles=frozenset(str(r) for r in SENDER_ROLES),
        ))
