from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Official documents")

    def ready(self):
        from communes.modules import Module, register
        from documents.permissions import MODULE_ROLES

        register(Module(
            key="documents", title=_("Official documents"),
            description=_("Incoming and outgoing documents, registers, signing and issuing."),
            url_name="documents:home", roles=frozenset(MODULE_ROLES),
        ))
