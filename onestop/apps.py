from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnestopConfig(AppConfig):
    name = "onestop"
    verbose_name = _("One-stop desk")

    def ready(self):
        from communes.modules import (
            DemoStep, FactsSource, InboxSource, Module, PublicSection, register, register_demo, register_facts,
            register_inbox, register_public_layout, register_public_section,
        )
        from onestop import checks  # noqa: F401  (registers the system checks)
        from onestop.permissions import MODULE_ROLES

        register(Module(
            key="onestop", title=_("One-stop desk"),
            description=_("Dossiers received at the desk and online, processing, results and statistics."),
            url_name="onestop:home", roles=frozenset(MODULE_ROLES),
        ))
        register_inbox(InboxSource(module="onestop", lines="onestop.inbox.lines", roles=frozenset(MODULE_ROLES)))
        register_demo(DemoStep(
            key="onestop", seed="onestop.demo.seed_demo", after=("population", "signatures", "documents"),
        ))
        register_facts(FactsSource(module="onestop", facts="onestop.facts.for_period", title=_("One-stop desk")))
        # The citizens' pages are the desk's: the commune's public home is drawn in their layout
        # and starts with the search of procedures and the dossier lookup.
        register_public_layout("onestop/public/layout.html")
        register_public_section(PublicSection(
            key="onestop", template="onestop/public/_home_section.html",
            context="onestop.public_views.home_section", order=10,
        ))
