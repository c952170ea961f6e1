from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = _("Outbox")

    def ready(self):
        from communes.modules import DemoStep, register_demo
        from outbox.demo import DEMO_AFTER

        register_demo(DemoStep(key="outbox", seed="outbox.demo.seed_demo", after=DEMO_AFTER))
