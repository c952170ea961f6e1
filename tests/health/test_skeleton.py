"""The health app is installed in every commune's schema, its home is for health staff and the
leaders, and a record per resident is unique."""
from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

pytestmark = pytest.mark.django_db


def test_the_station_fixture_and_one_record_per_resident(station, tule, in_commune):
    from health.models import HealthRecord

    with in_commune(tule):
        assert HealthRecord.objects.count() == 3
        with pytest.raises(IntegrityError), transaction.atomic():
            HealthRecord.objects.create(resident=station["baby"], opened_on=station["records"]["baby"].opened_on)


@pytest.mark.parametrize("who, status", [("nurse", 200), ("chairman", 200), ("radio", 403), ("onestop", 403),
                                         ("citizen", 403)])
def test_the_home_is_for_health_staff_and_leaders(people, client_for, who, status):
    response = client_for("tule.localhost", people[who]).get("/health/")
    assert response.status_code == status
    if status == 200:
        assert "Trạm Y tế" in response.content.decode() or "Trạm y tế" in response.content.decode()


@pytest.mark.parametrize("who", ["nurse", "chairman"])
def test_every_link_of_the_navigation_opens_for_whom_it_is_shown(station, people, client_for, who):
    import re

    client = client_for("tule.localhost", people[who])
    page = client.get("/health/").content.decode()
    nav = page[page.index('<nav class="searchbar"'):]
    links = re.findall(r'href="(/health/[^"]*)"', nav[:nav.index("</nav>")])
    assert len(links) == (12 if who == "nurse" else 3)
    for link in links:
        assert client.get(link).status_code == 200, link
