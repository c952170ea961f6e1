"""The enrolment applications' demo: seven applications in a commune, in every state, to its
primary and lower-secondary schools, for children of the registry of the grade's birth year who
are not students yet (in the catchment) or for children it does not know; one is the demo
citizen's, each has its birth certificate written under the commune's prefix; a second run adds
nothing."""
from __future__ import annotations

import datetime

import pytest

pytestmark = pytest.mark.django_db(transaction=False)


def test_the_demo_seeds_applications_in_every_state_once(tule, in_commune, schoolyard, school_people, rf):
    from communes.models import Role
    from core import storage
    from education import application_demo, applications
    from education.models import Application
    from population import services
    from population.models import Resident

    with in_commune(tule):
        newcomer = services.save_resident(Resident(household=schoolyard["household"], full_name="Lò Văn Demo",
                                                   birth_date=datetime.date(2020, 8, 8), sex="male",
                                                   relation="child", ethnicity="03"))
        made = application_demo.seed_commune(tule, school_people["parent"], with_citizen=True)
        assert made == Application.objects.count() == 7
        assert set(Application.objects.values_list("state", flat=True)) == {
            "submitted", "checking", "needs_papers", "accepted", "refused"}
        assert set(Application.objects.values_list("grade", flat=True)) == {1, 6}
        assert Application.objects.filter(grade=1).exclude(school=schoolyard["primary"]).count() == 0
        mine = Application.objects.get(applicant_id=school_people["parent"].pk)
        assert mine.state == "submitted" and mine.resident == newcomer and mine.in_catchment
        assert Application.objects.filter(resident=None, in_catchment=False).exists()
        for application in Application.objects.all():
            document = application.documents.get()
            assert document.file.startswith(f"communes/{tule.schema_name}/")
            assert storage.read(document.file).startswith(b"%PDF")
            assert application.code.startswith("TS26-")
        assert [a.code for a in applications.mine(school_people["parent"])] == [mine.code]
        lines = applications.inbox_lines(rf.get("/"), school_people["primary_principal"], {Role.SCHOOL_STAFF})
        assert lines and lines[0].count == Application.objects.filter(school=schoolyard["primary"],
                                                                      state="submitted").count()
        assert application_demo.seed_commune(tule, school_people["parent"], with_citizen=True) == 0
        assert Application.objects.count() == 7


def test_the_demo_applications_have_their_history(tule, in_commune, schoolyard, school_people):
    from education import application_demo
    from education.application_views import history
    from education.models import Application

    with in_commune(tule):
        application_demo.seed_commune(tule, None)
        refused = Application.objects.get(state="refused")
        assert [e["code"] for e in history(refused)] == ["submitted", "refused"]
        assert history(refused)[-1]["note"] == application_demo.NOTES["refused"]
