from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = _("Commune health station")

    def ready(self):
        from communes.modules import (
            DemoStep, FactsSource, InboxSource, Module, PublicSection, register, register_demo, register_facts,
            register_inbox, register_public_section,
        )
        from health.permissions import MODULE_ROLES

        register(Module(
            key="health", title=_("Health station"),
            description=_("Residents' health records, visits, vaccinations, programmes, monthly reports, questions "
                          "to the doctor."),
            url_name="health:home", roles=frozenset(MODULE_ROLES),
        ))
        register_inbox(InboxSource(module="health", lines="health.inbox.lines", roles=frozenset(MODULE_ROLES)))
        register_demo(DemoStep(key="health", seed="health.demo.seed_demo", after=("population",)))
        register_facts(FactsSource(module="health", facts="health.facts.for_period", title=_("Health station")))
        register_public_section(PublicSection(key="health", template="health/public/_home_section.html", order=30))
