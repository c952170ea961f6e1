"""The app's skeleton: the fixtures build, the staff of one school are scoped to it, the leaders
open the overview, parents are found by their phone, and the officials of other roles are kept out."""
from __future__ import annotations

import pytest

from education import permissions

pytestmark = pytest.mark.django_db(transaction=False)


def test_staff_of_one_school_see_only_that_school(tule, in_commune, schoolyard, school_people):
    p = school_people
    with in_commune(tule):
        assert list(permissions.schools_for(p["principal"])) == [schoolyard["thcs"]]
        assert list(permissions.schools_for(p["primary_teacher"])) == [schoolyard["primary"]]
        assert not permissions.schools_for(p["unplaced"]).exists()
        assert not permissions.schools_for(p["chairman"]).exists()
        assert permissions.can(p["principal"], "marks.lock", schoolyard["thcs"])
        assert not permissions.can(p["principal"], "school.read", schoolyard["primary"])
        assert not permissions.can(p["math"], "marks.lock", schoolyard["thcs"])
        assert permissions.may_write_marks(p["math"], schoolyard["class6a"], schoolyard["subjects6"]["toan"])
        assert not permissions.may_write_marks(p["math"], schoolyard["class6a"], schoolyard["subjects6"]["ngu_van"])
        assert permissions.may_take_attendance(p["literature"], schoolyard["class6a"])
        assert not permissions.may_take_attendance(p["math"], schoolyard["class6a"])
        assert [s.pk for s in permissions.children_of(p["parent"])] == sorted(
            [schoolyard["students6"][0].pk, schoolyard["students1"][0].pk])
        assert not permissions.children_of(p["citizen"]).exists()
        assert not permissions.children_of(p["principal"]).exists()


@pytest.mark.parametrize("who, status", [("principal", 200), ("chairman", 200), ("unplaced", 200),
                                         ("radio", 403), ("nurse", 403), ("parent", 403)])
def test_the_overview_opens_for_school_staff_and_leaders_only(tule, schoolyard, school_people, client_for, who, status):
    response = client_for("tule.localhost", school_people[who]).get("/schools/")
    assert response.status_code == status
    if status == 200:
        assert "Việc cần làm" in response.content.decode() or "Trường" in response.content.decode()
    if who == "principal":  # the school's page is one click away
        assert f'href="/schools/{schoolyard["thcs"].pk}/"' in response.content.decode()
        assert client_for("tule.localhost", school_people[who]).get(f'/schools/{schoolyard["thcs"].pk}/').status_code == 200
