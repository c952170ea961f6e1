"""Two sends of one application at the same moment, each on its own connection with committed
rows: the same submission key (a double click reaching two server threads) gives one application,
and two keys for the same child (two parents) give one application and a refusal naming the
duplicate; never two, never a server error."""
from __future__ import annotations

import datetime
import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from communes.models import Commune, User
from education import applications

SCHOOL = "Trường Tiểu học Đua Nộp Hồ Sơ"

# The database for the test run; the rows the threads read are committed by the module's fixture.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def committed(django_db_setup, django_db_blocker):
    from education.models import Application, School, SchoolLevel, SchoolYear, Sequence
    from notifications.models import Notification

    with django_db_blocker.unblock():
        tule = Commune.objects.get(code="04630")
        parents = [User.objects.create_user(f"09127770{n}{n}", password="x", phone=f"09127770{n}{n}")
                   for n in (6, 7)]
        made_year = last_notification = None
        try:
            with tenant_context(tule):
                # The messages to the parents are committed with the applications: removed after.
                last_notification = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                year = SchoolYear.objects.filter(current=True).first()
                if year is None:
                    year = made_year = SchoolYear.objects.create(
                        name="2026-2027", starts_on=datetime.date(2026, 9, 5), ends_on=datetime.date(2027, 5, 31),
                        current=True)
                school = School.objects.create(name=SCHOOL, level=SchoolLevel.PRIMARY)
            connection.set_schema_to_public()
            yield {"commune": tule, "year": year, "school": school, "parents": parents}
        finally:
            connection.set_schema_to_public()
            with schema_context(tule.schema_name):
                ids = list(Application.objects.filter(school__name=SCHOOL).values_list("pk", flat=True))
                for application in Application.objects.filter(pk__in=ids):
                    application.documents.all().delete()
                Application.objects.filter(pk__in=ids).delete()
                Application.history.filter(id__in=ids).delete()
                if last_notification is not None:
                    Notification.objects.filter(pk__gt=last_notification).delete()
                school_ids = list(School.objects.filter(name=SCHOOL).values_list("pk", flat=True))
                School.objects.filter(pk__in=school_ids).delete()
                School.history.filter(id__in=school_ids).delete()
                if made_year is not None:
                    Sequence.objects.filter(name=f"education.applications.{made_year.pk}").delete()
                    made_year.delete()
            User.objects.filter(pk__in=[p.pk for p in parents]).delete()


def _race(data, monkeypatch, keys, users, child):
    barrier = threading.Barrier(2)
    real = applications.find_residence

    def after_barrier(*args, **kwargs):  # both have passed the first look for the key
        found = real(*args, **kwargs)
        barrier.wait(timeout=10)
        return found

    monkeypatch.setattr(applications, "find_residence", after_barrier)
    results, refusals, errors = [], [], []

    def run(key, user):
        try:
            with tenant_context(data["commune"]):
                results.append(applications.submit(
                    user, school=data["school"], year=data["year"], grade=1, child_name=child,
                    child_birth_date=datetime.date(data["year"].starts_on.year - 6, 4, 4), child_sex="male",
                    applicant_name="Phụ Huynh", applicant_phone=user.phone,
                    papers=[("birth_certificate", SimpleUploadedFile("ks.pdf", b"%PDF-1.4\n%%EOF\n"))],
                    submission_key=key))
        except ValidationError as error:
            refusals.append(error)
        except Exception as error:  # noqa: BLE001  (reported by the test)
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(k, u)) for k, u in zip(keys, users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, refusals, errors


def test_the_same_key_twice_at_once_makes_one_application(committed, monkeypatch):
    from education.models import Application

    key = uuid.uuid4().hex
    parent = committed["parents"][0]
    results, refusals, errors = _race(committed, monkeypatch, [key, key], [parent, parent], "Lò Văn Cùng Lúc")
    assert errors == [] and refusals == []
    assert sorted(created for _a, created in results) == [False, True]
    assert len({a.pk for a, _c in results}) == 1
    with schema_context(committed["commune"].schema_name):
        assert Application.objects.filter(school__name=SCHOOL, child_name="Lò Văn Cùng Lúc").count() == 1
        assert Application.objects.get(school__name=SCHOOL, child_name="Lò Văn Cùng Lúc").documents.count() == 1


def test_two_parents_at_once_for_one_child_make_one_application(committed, monkeypatch):
    from education.models import Application

    results, refusals, errors = _race(committed, monkeypatch, [uuid.uuid4().hex, uuid.uuid4().hex],
                                      committed["parents"], "Hà Thị Hai Nhà")
    assert errors == []
    assert [created for _a, created in results] == [True]
    assert [r.error_dict["child_name"][0].code for r in refusals] == ["duplicate"]
    with schema_context(committed["commune"].schema_name):
        assert Application.objects.filter(school__name=SCHOOL, child_name="Hà Thị Hai Nhà").count() == 1
