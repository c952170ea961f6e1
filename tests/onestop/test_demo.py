"""The demo dossiers: Tú Lệ's half year gives the pilot's figures; today's dossiers cover every
state; signed results are real; running it again adds nothing."""
from __future__ import annotations

import datetime

from django.utils import timezone

from communes.models import Role
from tests.onestop.helpers import CLERK_PIN, PIN, pki_set, signing_setup  # noqa: F401 (fixtures)


def officials_of(people) -> dict:
    return {role: people[role] for role in (Role.ONESTOP_OFFICER, Role.SPECIALIST, Role.CHAIRMAN, Role.CLERK,
                                            Role.VICE_CHAIRMAN)}


def test_demo_half_year_gives_the_pilot_figures_and_every_state(tule, people, signing_setup):
    from onestop import demo, statistics
    from onestop.models import Dossier, DossierState

    made = demo.populate(tule, officials_of(people), citizen=people["citizen"], leader_pin=PIN, clerk_pin=CLERK_PIN)
    assert made["history"]["early"] == 198 and made["history"]["on_time"] == 8 and made["history"]["late"] == 0
    today = timezone.localdate()
    end = today.replace(day=1) - datetime.timedelta(days=1)
    start = (end.replace(day=1) - datetime.timedelta(days=160)).replace(day=1)
    figures = statistics.compute(start, end)
    assert (figures["received"], figures["early"], figures["on_time"], figures["late"]) == (206, 198, 8, 0)
    assert 0.8 <= figures["satisfaction_share"] <= 1.0
    states = set(Dossier.objects.values_list("state", flat=True))
    assert set(DossierState.values) <= states, set(DossierState.values) - states
    ready = Dossier.objects.filter(state__in=[DossierState.RESULT_READY, DossierState.RETURNED]).exclude(signed_result="")
    assert ready.count() == 2
    codes = list(Dossier.objects.exclude(code=None).values_list("code", flat=True))
    assert len(codes) == len(set(codes)) and all(code.startswith(tule.code + "-") or code.startswith((tule.agency_code or "@") + "-") for code in codes)
    assert demo.populate(tule, officials_of(people), citizen=people["citizen"]) == {}
