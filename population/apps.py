from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PopulationConfig(AppConfig):
    name = "population"
    verbose_name = _("Population registry")

    def ready(self):
        from communes.modules import DemoStep, Module, register, register_demo
        from population.permissions import READ_ROLES

        register(Module(
            key="population", title=_("Population registry"),
            description=_("Villages, households and residents of the commune."),
            url_name="population:resident-list", roles=frozenset(READ_ROLES),
        ))
        register_demo(DemoStep(key="population", seed="population.demo.seed_demo"))
