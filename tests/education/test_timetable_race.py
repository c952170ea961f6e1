"""Two managers write the same teacher into two classes at the same moment, each on its own
connection with committed rows: both pass the check, the database's constraint lets one win, and
the other is answered with the check's own message naming the winner's class."""
from __future__ import annotations

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from communes.models import Commune, Membership, Role, User
from core.validation import error_code
from education import timetable
from education.models import TimetableSlot


SCHOOL = "Trường THCS Đua Tranh"


@pytest.fixture
def committed_school(django_db_setup, django_db_blocker):
    """Committed in Tú Lệ: a school of year 2098-2099 with two classes, a manager, a teacher and a
    subject; removed afterwards."""
    from education.models import (
        School, SchoolClass, SchoolLevel, SchoolYear, Semester, StaffMember, StaffPosition, Subject,
    )

    with django_db_blocker.unblock():
        tule = Commune.objects.get(code="04630")
        manager = User.objects.create_user("tt_race_manager", password="x", full_name="Quản Lý Thời Khóa")
        Membership.objects.create(user=manager, commune=tule, role=Role.SCHOOL_STAFF)
        try:
            with tenant_context(tule):
                year = SchoolYear.objects.create(name="2098-2099", starts_on=datetime.date(2098, 9, 5),
                                                 ends_on=datetime.date(2099, 5, 31))
                semester = Semester.objects.create(year=year, number=1, starts_on=year.starts_on,
                                                   ends_on=datetime.date(2099, 1, 15))
                school = School.objects.create(name=SCHOOL, level=SchoolLevel.LOWER_SECONDARY)
                StaffMember.objects.create(school=school, user=manager, full_name=manager.full_name,
                                           position=StaffPosition.PRINCIPAL)
                teacher = StaffMember.objects.create(school=school, full_name="Lò Văn Đồng Thời")
                subject = Subject.objects.create(grade=6, code="tt_race", name="Môn thử đua", kind="scored",
                                                 periods_per_year=70)
                classes = [SchoolClass.objects.create(school=school, year=year, grade=6, name=name)
                           for name in ("6X", "6Y")]
            yield {"commune": tule, "manager": manager, "semester": semester, "teacher": teacher,
                   "subject": subject, "classes": classes, "school": school}
        finally:
            connection.set_schema_to_public()
            with schema_context(tule.schema_name):
                school_ids = list(School.objects.filter(name=SCHOOL).values_list("pk", flat=True))
                TimetableSlot.objects.filter(school_id__in=school_ids).delete()
                SchoolClass.objects.filter(school_id__in=school_ids).delete()
                StaffMember.objects.filter(school_id__in=school_ids).delete()
                School.objects.filter(pk__in=school_ids).delete()
                Semester.objects.filter(year__name="2098-2099").delete()
                SchoolYear.objects.filter(name="2098-2099").delete()
                Subject.objects.filter(code="tt_race").delete()
                for model in (SchoolClass, StaffMember):
                    model.history.model.objects.filter(school_id__in=school_ids).delete()
                School.history.model.objects.filter(id__in=school_ids).delete()
            Membership.objects.filter(user__username="tt_race_manager").delete()
            User.objects.filter(username="tt_race_manager").delete()


def test_two_managers_at_once_one_wins_the_other_gets_the_message(committed_school, monkeypatch):
    data = committed_school
    barrier = threading.Barrier(2)
    written, refused, errors = [], [], []
    # Both pass the check before either writes: the database's constraint decides, and the loser
    # is answered with the same message as the check's.
    real_clash = timetable.clash
    calls = {"n": 0}

    def clash_after_barrier(*args, **kwargs):
        calls["n"] += 1
        found = real_clash(*args, **kwargs)
        if threading.current_thread() is not threading.main_thread() and not getattr(local, "waited", False):
            local.waited = True
            barrier.wait(timeout=30)
        return found

    local = threading.local()
    monkeypatch.setattr(timetable, "clash", clash_after_barrier)

    def write(school_class, room):
        try:
            with tenant_context(data["commune"]):
                user = User.objects.get(pk=data["manager"].pk)
                try:
                    slot = timetable.save_slot(user, school_class, data["semester"],
                                               timetable.Cell(3, 2, data["subject"], data["teacher"], room))
                    written.append(slot.school_class.name)
                except ValidationError as exc:
                    refused.append((error_code(exc), exc.messages[0]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(c, f"R{c.name}")) for c in data["classes"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(written) == 1 and len(refused) == 1
    code, message = refused[0]
    assert code == "teacher_busy" and written[0] in message and "Lò Văn Đồng Thời" in message
    with tenant_context(data["commune"]):
        assert TimetableSlot.objects.filter(school=data["school"]).count() == 1
