from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EducationConfig(AppConfig):
    name = "education"
    verbose_name = _("Schools of the commune")

    def ready(self):
        from communes.modules import (
            DemoStep, FactsSource, InboxSource, Module, PublicSection, register, register_demo, register_facts,
            register_inbox, register_public_section,
        )
        from education.permissions import MODULE_ROLES

        register(Module(
            key="education", title=_("Schools"),
            description=_("Classes and students, marks and report cards, attendance and timetables, the contact "
                          "book, enrolment and school fees."),
            url_name="education:home", roles=frozenset(MODULE_ROLES),
        ))
        register_inbox(InboxSource(module="education", lines="education.inbox.lines", roles=frozenset(MODULE_ROLES)))
        register_demo(DemoStep(key="education", seed="education.demo.seed_demo", after=("population", "signatures")))
        register_facts(FactsSource(module="education", facts="education.facts.for_period", title=_("Schools")))
        register_public_section(PublicSection(key="education", template="education/public/_home_section.html",
                                              order=40))
