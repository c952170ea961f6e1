"""The health station's demo: records for about 83% of each demo commune's residents (the pilots'
82.86% in Tú Lệ), a year of visits, the children's doses, and the coverage figure on the staff's
home; made once (a second run changes nothing). Checked by tests/test_demo.py, which seeds the
demo twice for every app at once."""
from __future__ import annotations

import datetime

from django.utils import timezone

from communes.models import Commune, User


def health_counts(in_commune):
    from health.models import HealthRecord, Pregnancy, Question, Reading, Vaccination, Visit

    out = {}
    for code in ("04630", "14701"):
        with in_commune(Commune.objects.get(code=code)):
            out[code] = tuple(model.objects.count() for model in (
                HealthRecord, Visit, Vaccination, Reading, Pregnancy, Question))
    return out


def check_demo_health(in_commune, client_for) -> None:
    from health.models import HealthRecord, Vaccination, Visit
    from population.models import Resident

    tule = Commune.objects.get(code="04630")
    today = timezone.localdate()
    with in_commune(tule):
        residents, records = Resident.objects.count(), HealthRecord.objects.count()
        assert residents and abs(records / residents - 0.8286) < 0.05, (records, residents)
        months = {(v.year, v.month) for v in Visit.objects.values_list("visited_at", flat=True)
                  .iterator() if v.date() >= today - datetime.timedelta(days=366)}
        assert len(months) >= 11, months  # a year of visits
        assert Vaccination.objects.exists() and not Vaccination.objects.filter(given_on__gt=today).exists()
    # The station's staff (second factor confirmed) read the coverage figure on their home.
    nurse = client_for("tule.localhost", User.objects.get(username="tule.health_staff"))
    page = nurse.get("/health/").content.decode()
    percent = f"{100 * records / residents:.2f}".replace(".", ",")
    assert 'id="records-coverage"' in page and f"{percent} %" in page, percent
