from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignaturesConfig(AppConfig):
    name = "signatures"
    verbose_name = _("Digital signatures")

    def ready(self):
        from communes.modules import DemoStep, InboxSource, Module, register, register_demo, register_inbox
        from signatures.permissions import MODULE_ROLES

        register(Module(
            key="signatures", title=_("Digital signatures"),
            description=_("Your signing certificates, handwritten signature and signed files."),
            url_name="signatures:mine", roles=frozenset(str(r) for r in MODULE_ROLES),
        ))
        register_inbox(InboxSource(
            module="signatures", lines="signatures.inbox.lines", roles=frozenset(str(r) for r in MODULE_ROLES),
        ))
        register_demo(DemoStep(key="signatures", seed="signatures.demo.seed_demo"))
