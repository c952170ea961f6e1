"""A class's report cards made by a real Celery worker (another process, committed rows): the
request answers at once with a queued job, the worker draws the PDF with its progress in students,
writes it once under the commune's storage prefix and records it; pdftotext finds each student's
name and the school's; a page per student."""
from __future__ import annotations

import datetime
import io
import unicodedata

import pytest
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from tests.jobs.helpers import TULE_SCHEMA, wait_for

NAMES = ["Lò Văn Thắng", "Quàng Thị Huệ", "Điêu Chính Tuấn", "Lường Thị Ngọc", "Tòng Văn Khởi", "Hoàng Thị Thủy"]


def _page_count(data: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(data)).root["/Pages"]["/Count"])


def test_the_file_s_name_follows_from_the_job(schoolyard):
    """A run after a crash finds the file an earlier run wrote: its name is the job's, not random.
    (This test also makes pytest-django open the test database before the worker starts.)"""
    from education import report_cards

    job, _created = report_cards.request_job(schoolyard["staff"]["math"].user, schoolyard["class6a"], "cards", "year")
    name = report_cards.file_name(job)
    assert name == report_cards.file_name(job) and job.idempotency_key in name
    assert name.startswith(f"education/reports/{schoolyard['class6a'].pk}/cards-year-")


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("report-cards-media")


@pytest.fixture(scope="module")
def queue(celery_broker):
    from config.celery import app

    from tests.celery_worker import queue_of_its_own

    with queue_of_its_own(app, f"{celery_broker['queue']}-reports") as name:
        yield name
    celery_broker["redis"].delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")


@pytest.fixture(scope="module")
def reports_worker(worker_env, queue, media, django_db_blocker):
    """A worker of the module's own, writing to the module's media directory (not the project's)."""
    import os

    from tests.celery_worker import WorkerProcess

    worker = WorkerProcess({**worker_env, "XASO_MEDIA_ROOT": str(media), "CELERY_TASK_DEFAULT_QUEUE": queue}, queue)
    with django_db_blocker.unblock():
        worker.start()
    yield worker
    worker.stop()
    with django_db_blocker.unblock():
        from jobs.models import WorkerHeartbeat

        WorkerHeartbeat.objects.filter(worker_name__startswith="jobs-test-").delete()
    os.unlink(worker.log.name)


@pytest.mark.celery
@pytest.mark.xdist_group("celery")
def test_a_real_worker_makes_the_class_s_cards(tule_live, reports_worker, media, settings):
    from communes.models import Membership, Role, User
    from core.storage import read
    from education import report_cards
    from education.curriculum import ensure_subjects
    from education.models import (
        Enrolment, ReportCardJob, School, SchoolClass, SchoolLevel, SchoolYear, StaffMember, StaffPosition, Student,
    )
    from population import services
    from population.models import AccessLog, Household, Resident, Village
    from tests.education.test_reports_pdf import flat, pdftotext

    settings.MEDIA_ROOT = str(media)  # the worker's
    worker = reports_worker
    # Committed rows (the worker reads them): the live_db fixture removes the user afterwards.
    teacher = User.objects.create_user("edu_worker_teacher", password="Mat-khau-2026!", full_name="Lò Thị Dạy")
    Membership.objects.create(user=teacher, commune=tule_live, role=Role.SCHOOL_STAFF)
    made = {}
    try:
        with tenant_context(tule_live):  # the commune itself: its roles are read from it
            logs_before = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            ensure_subjects([7])
            made["village"] = village = services.save_village(Village(name="Bản Thợ Máy"))
            made["household"] = household = services.save_household(Household(code="TM-901", village=village,
                                                                               address="Bản Thợ Máy"))
            made["year"] = year = SchoolYear.objects.create(name="2031-2032", starts_on=datetime.date(2031, 9, 5),
                                                            ends_on=datetime.date(2032, 5, 31))
            made["school"] = school = School.objects.create(name="Trường THCS Thợ Máy", level=SchoolLevel.LOWER_SECONDARY)
            made["staff"] = StaffMember.objects.create(school=school, user=teacher, full_name=teacher.full_name,
                                                       position=StaffPosition.TEACHER)
            made["class"] = school_class = SchoolClass.objects.create(school=school, year=year, grade=7, name="7M")
            made["residents"], made["students"] = [], []
            for number, name in enumerate(NAMES, start=1):
                resident = services.save_resident(Resident(household=household, full_name=name,
                                                           birth_date=datetime.date(2019, number, 2),
                                                           sex="male" if number % 2 else "female",
                                                           relation="child" if number > 1 else "head"))
                made["residents"].append(resident)
                student = Student.objects.create(resident=resident)
                made["students"].append(student)
                Enrolment.objects.create(student=student, school_class=school_class, year=year, number=number,
                                         starts_on=year.starts_on)
            job, created = report_cards.request_job(teacher, school_class, "cards", "year")
            assert created and job.state == "queued"

        def finished():
            with schema_context(TULE_SCHEMA):
                return ReportCardJob.objects.get(pk=job.pk).state in ("succeeded", "failed")

        try:
            wait_for(finished, timeout=90, message="the report cards job to finish")
        except AssertionError:
            print(worker.output()[-5000:])
            raise
        with schema_context(TULE_SCHEMA):
            job = ReportCardJob.objects.get(pk=job.pk)
            assert job.state == "succeeded", job.error
            assert job.completions == 1  # the result committed once
            assert job.file.startswith(f"communes/{TULE_SCHEMA}/education/reports/")
            data = read(job.file)
            assert AccessLog.objects.filter(pk__gt=logs_before, action=AccessLog.Action.EXPORT,
                                            description__contains="7M").count() == 1
        assert _page_count(data) == len(NAMES) == job.result["pages"]
        text = flat(pdftotext(data))
        for name in NAMES:
            assert unicodedata.normalize("NFC", name) in text
        assert "TRƯỜNG THCS THỢ MÁY" in text and "HỌC BẠ TRUNG HỌC CƠ SỞ" in text
    finally:
        connection.set_schema_to_public()
        with schema_context(TULE_SCHEMA):
            AccessLog.objects.filter(description__contains="7M").delete()
            if "class" in made:
                ReportCardJob.objects.filter(school_class=made["class"]).delete()
                Enrolment.history.filter(school_class_id=made["class"].pk).delete()
                Enrolment.objects.filter(school_class=made["class"]).delete()
            for student in made.get("students", []):
                Student.history.filter(id=student.pk).delete()
                student.delete()
            for resident in made.get("residents", []):
                Resident.objects.filter(pk=resident.pk).delete()
            if "class" in made:
                SchoolClass.history.filter(id=made["class"].pk).delete()
                made["class"].delete()
            if "staff" in made:
                StaffMember.history.filter(id=made["staff"].pk).delete()
                made["staff"].delete()
            if "school" in made:
                School.history.filter(id=made["school"].pk).delete()
                made["school"].delete()
            if "year" in made:
                made["year"].delete()
            if "household" in made:
                Household.objects.filter(pk=made["household"].pk).delete()
            if "village" in made:
                Village.objects.filter(pk=made["village"].pk).delete()
