from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TruststoreConfig(AppConfig):
    name = "truststore"
    verbose_name = _("Trust store")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from truststore import services
        from truststore.models import TrustAnchor

        def changed(sender, **kwargs):
            services.clear_cache()

        post_save.connect(changed, sender=TrustAnchor, dispatch_uid="truststore_anchor_saved", weak=False)
        post_delete.connect(changed, sender=TrustAnchor, dispatch_uid="truststore_anchor_deleted", weak=False)
