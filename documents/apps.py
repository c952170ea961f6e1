from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Official documents")

    def ready(self):
        from communes.modules import (
            DemoStep, FactsSource, InboxSource, Module, register, register_demo, register_facts, register_inbox,
        )
        from documents.permissions import MODULE_ROLES

        register(Module(
            key="documents", title=_("Official documents"),
            description=_("Incoming and outgoing documents, registers, signing and issuing."),
            url_name="documents:home", roles=frozenset(MODULE_ROLES),
        ))
        register_inbox(InboxSource(module="documents", lines="documents.inbox.lines", roles=frozenset(MODULE_ROLES)))
        register_demo(DemoStep(key="documents", seed="documents.demo.seed_demo", after=("population", "signatures")))
        register_facts(FactsSource(module="documents", facts="documents.facts.for_period", title=_("Official documents")))
