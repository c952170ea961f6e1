"""The modules of a commune site and the roles that open them (for the officials' home)."""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from communes.models import Role


@dataclass(frozen=True)
class Module:
    key: str
    title: str
    description: str
    url_name: str
    roles: frozenset


MODULES: list[Module] = []


def register(module: Module) -> None:
    if all(m.key != module.key for m in MODULES):
        MODULES.append(module)


def modules_for(roles: set[str]) -> list[Module]:
    return [m for m in MODULES if roles & m.roles]


register(Module(
    key="admin", title=_("Administration"),
    description=_("Users, villages and settings of the commune."),
    url_name="commune_admin:index", roles=frozenset({Role.COMMUNE_ADMIN}),
))
