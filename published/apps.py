from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishedConfig(AppConfig):
    name = "published"
    verbose_name = _("Published rows")

    def ready(self):
        from published.facts import TOPIC
        from published.topics import Topic, register_topic

        register_topic(Topic(name=TOPIC, apply="published.facts.apply", snapshot="published.facts.snapshot"))
