from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BroadcastingConfig(AppConfig):
    name = "broadcasting"
    verbose_name = _("Commune radio")

    def ready(self):
        from communes.modules import (
            DemoStep, FactsSource, InboxSource, Module, register, register_demo, register_facts, register_inbox,
        )
        from broadcasting.permissions import MODULE_ROLES

        register(Module(
            key="broadcasting", title=_("Commune radio"),
            description=_("Loudspeaker clusters, broadcast slots, bulletins read by a synthetic voice, emergency broadcasts."),
            url_name="broadcasting:home", roles=frozenset(MODULE_ROLES),
        ))
        register_inbox(InboxSource(
            module="broadcasting", lines="broadcasting.inbox.lines", roles=frozenset(MODULE_ROLES),
        ))
        register_demo(DemoStep(
            key="broadcasting", seed="broadcasting.demo.seed_demo", after=("population", "documents", "onestop"),
        ))
        register_facts(FactsSource(
            module="broadcasting", facts="broadcasting.facts.for_period", title=_("Commune radio"),
        ))
