from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EcommerceConfig(AppConfig):
    name = "ecommerce"
    verbose_name = _("OCOP marketplace")

    def ready(self):
        from communes.modules import (
            DemoStep, FactsSource, InboxSource, Module, register, register_demo, register_facts, register_inbox,
        )
        from ecommerce.permissions import MODULE_ROLES

        register(Module(
            key="ecommerce", title=_("OCOP marketplace"),
            description=_("OCOP producers and products with their stars, lots and trace codes, orders paid by VietQR."),
            url_name="ecommerce:home", roles=frozenset(MODULE_ROLES),
        ))
        register_inbox(InboxSource(module="ecommerce", lines="ecommerce.inbox.lines", roles=frozenset(MODULE_ROLES)))
        register_demo(DemoStep(key="ecommerce", seed="ecommerce.demo.seed_demo", after=("population",)))
        register_facts(FactsSource(module="ecommerce", facts="ecommerce.facts.for_period", title=_("OCOP marketplace")))
        # The catalogue: its part of the commune's public home, and the national catalogue's rows
        # published through the outbox (ecommerce.publishing, ocop_national).
        from communes.modules import PublicSection, register_public_section
        from ecommerce import publishing
        from published.topics import Topic, register_topic

        register_public_section(PublicSection(
            key="ecommerce", template="ecommerce/public/_home_section.html",
            context="ecommerce.public_views.home_section", order=20,
        ))
        register_topic(Topic(name=publishing.TOPIC, apply="ecommerce.publishing.apply",
                             snapshot="ecommerce.publishing.snapshot"))
        publishing.connect_signals()
        # The trace lookup and the product map on the commune's public home (ecommerce.trace_views).
        register_public_section(PublicSection(key="ecommerce.trace", template="ecommerce/trace/_home_section.html",
                                              order=21))
