"""The parent of an enrolment application is told by SMS, through the real worker and the local
SMS gateway: when the application is received, when the school asks for papers (with the
school's note and the link to the application on the commune's configured address) and when the
school decides, each message reaching the gateway once."""
from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.jobs.helpers import TULE_SCHEMA, wait_for

PHONE = "0912777055"


def test_each_change_of_the_school_tells_the_parent_and_a_withdrawal_nobody(db, tule, in_commune, schoolyard, school_people):
    """The school's changes are told to the parent (one SMS each, no e-mail without an address);
    the parent's own withdrawal is not."""
    from education import applications
    from education.models import Application
    from notifications.models import Notification

    with in_commune(tule):
        application, _ = applications.submit(
            school_people["parent"], school=schoolyard["primary"], year=schoolyard["year"], grade=1,
            child_name="Lò Văn Thư", child_birth_date=datetime.date(2020, 2, 2), child_sex="male",
            applicant_name="Lường Thị Mẹ", applicant_phone="0912000222",
            papers=[("birth_certificate", SimpleUploadedFile("ks.pdf", b"%PDF-1.4\n%%EOF\n"))],
            submission_key=uuid.uuid4().hex)
        Application.objects.filter(pk=application.pk).update(applicant_email="")
        last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
        applications.start_checking(school_people["primary_principal"], application)
        checking = Notification.objects.get(pk__gt=last)
        assert checking.channel == "sms" and application.code in checking.message
        applications.withdraw(school_people["parent"], application)
        assert not Notification.objects.filter(pk__gt=checking.pk).exists()


@pytest.mark.celery
@pytest.mark.xdist_group("celery")
def test_the_parent_gets_an_sms_at_each_step(tule_live, worker, gateway, settings):
    from django.db import connection
    from django_tenants.utils import schema_context, tenant_context

    from communes.models import Membership, Role, User
    from education import applications
    from education.models import (
        Application, ApplicationDocument, School, SchoolLevel, SchoolYear, Sequence, StaffMember, StaffPosition,
    )
    from notifications.models import Notification

    settings.XASO_PUBLIC_SCHEME = "https"
    parent = User.objects.create_user(PHONE, password="Mat-khau-2026!", phone=PHONE, full_name="Lò Thị Nhắn")
    principal = User.objects.create_user("edu_app_sms_principal", password="Mat-khau-2026!", full_name="Hà Văn Hiệu")
    Membership.objects.create(user=principal, commune=tule_live, role=Role.SCHOOL_STAFF)
    made_year = False
    school = year = None
    try:
        with tenant_context(tule_live):
            year = SchoolYear.objects.filter(current=True).first()
            if year is None:
                year = SchoolYear.objects.create(name="2026-2027", starts_on=datetime.date(2026, 9, 5),
                                                 ends_on=datetime.date(2027, 5, 31), current=True)
                made_year = True
            school = School.objects.create(name=f"Trường Tiểu học Nhắn Tin {uuid.uuid4().hex[:6]}", short_name="TH Nhắn",
                                           level=SchoolLevel.PRIMARY)
            StaffMember.objects.create(school=school, user=principal, full_name="Hà Văn Hiệu",
                                       position=StaffPosition.PRINCIPAL)
            last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            application, _ = applications.submit(
                parent, school=school, year=year, grade=1, child_name="Lò Văn Tin",
                child_birth_date=datetime.date(year.starts_on.year - 6, 2, 2), child_sex="male",
                applicant_name="Lò Thị Nhắn", applicant_phone=PHONE,
                papers=[("birth_certificate", SimpleUploadedFile("ks.pdf", b"%PDF-1.4\n%%EOF\n"))],
                submission_key=uuid.uuid4().hex)
            received = Notification.objects.get(pk__gt=last)
            applications.ask_papers(principal, application, "Bổ sung giấy xác nhận cư trú")
            papers = Notification.objects.filter(pk__gt=received.pk).get()
            applications.refuse(principal, application, "Đã đủ chỉ tiêu")
            refused = Notification.objects.filter(pk__gt=papers.pk).get()
            domain = tule_live.primary_host
        for job in (received, papers, refused):
            assert job.recipients == [PHONE]
            wait_for(lambda job=job: gateway.effects_for(job.idempotency_key), timeout=60,
                     message="the application's SMS at the gateway")
            assert gateway.effects_for(job.idempotency_key) == {f"{job.idempotency_key}:0": PHONE}
        assert application.code in received.message and "TH Nhắn" in received.message
        assert "Bổ sung giấy xác nhận cư trú" in papers.message
        assert f"https://{domain}" in papers.message and f"/school-enrolment/applications/{application.pk}/" in papers.message
        assert "Đã đủ chỉ tiêu" in refused.message

        def succeeded():
            with schema_context(TULE_SCHEMA):
                return set(Notification.objects.filter(pk__in=[received.pk, papers.pk, refused.pk])
                           .values_list("state", flat=True)) == {"succeeded"}

        wait_for(succeeded, timeout=30, message="the SMS jobs to succeed")
    finally:
        connection.set_schema_to_public()
        with schema_context(TULE_SCHEMA):
            if school is not None:
                ids = list(Application.objects.filter(school=school).values_list("pk", flat=True))
                ApplicationDocument.objects.filter(application_id__in=ids).delete()
                Application.objects.filter(pk__in=ids).delete()
                Application.history.filter(id__in=ids).delete()
                StaffMember.objects.filter(school=school).delete()
                StaffMember.history.filter(school_id=school.pk).delete()
                school_id = school.pk
                school.delete()
                School.history.filter(id=school_id).delete()
            if made_year:
                Sequence.objects.filter(name=f"education.applications.{year.pk}").delete()
                year.delete()
