"""Two bank notifications for one invoice at the same moment, from two threads on two database
connections (committed rows, cleaned up after): one payment, one receipt; the other transaction is
kept as already paid, and the same transaction sent twice at once gets one answer."""
from __future__ import annotations

import datetime
import hashlib
import hmac
import threading

from tests.education.test_fees_bank import MASTER, SECRET, body

def test_two_notifications_at_the_same_moment_pay_once(live_db, settings):
    """Two different transactions and the same transaction twice, each pair sent at once from two
    threads (two database connections): one payment, one receipt; the other kept as already paid
    or answered as the first."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from education import fees
    from education.models import (
        Enrolment, FeeItem, FeeNotification, FeePayment, Invoice, School, SchoolClass, SchoolLevel, SchoolYear,
        Semester, Sequence, Student,
    )
    from population import services
    from population.models import Household, Resident, Village

    from communes.models import Commune

    settings.XASO_BANK_WEBHOOK_SECRET = MASTER
    tule = Commune.objects.get(schema_name="c_04630")  # not the fixture: it holds a transaction
    with tenant_context(tule):
        village = services.save_village(Village(name="Bản Đua Tiền"))
        household = services.save_household(Household(code="DT-001", village=village, address="Bản Đua Tiền"))
        year = SchoolYear.objects.create(name="2026-2027", starts_on=datetime.date(2026, 9, 5),
                                         ends_on=datetime.date(2027, 5, 31))
        semester = Semester.objects.create(year=year, number=1, starts_on=datetime.date(2026, 9, 5),
                                           ends_on=datetime.date(2027, 1, 16))
        school = School.objects.create(name="Trường THCS Đua", level=SchoolLevel.LOWER_SECONDARY,
                                       bank_bin="970405", bank_account="1234567890123")
        school_class = SchoolClass.objects.create(school=school, year=year, grade=6, name="6D")
        children = [services.save_resident(Resident(household=household, full_name=f"Lò Văn Đua {n}",
                                                    birth_date=datetime.date(2015, 1, n), sex="male",
                                                    relation="child", ethnicity="03")) for n in (1, 2)]
        students = [Student.objects.create(resident=c) for c in children]
        for n, student in enumerate(students, start=1):
            Enrolment.objects.create(student=student, school_class=school_class, year=year, number=n,
                                     starts_on=year.starts_on)
        item = FeeItem.objects.create(school=school, semester=semester, name="Đồng phục", amount=300_000)
        item.classes.set([school_class])
        fees.issue_invoices(school, semester)
        first, second = Invoice.objects.filter(school=school).order_by("code")

    def send_together(raws):
        barrier = threading.Barrier(len(raws))
        answers = [None] * len(raws)

        def run(index):
            with tenant_context(tule):
                try:
                    barrier.wait(10)
                    raw = raws[index]
                    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
                    answers[index] = fees.handle_bank_notification(raw, signature)
                finally:
                    connection.close()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(raws))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return answers

    try:
        two = send_together([body(first, transaction_id="RACE-A", amount=300_000),
                             body(first, transaction_id="RACE-B", amount=300_000)])
        assert sorted(status for status, _ in two) == [200, 409], two
        assert sorted(answer.get("status", answer.get("code")) for _, answer in two) == ["already_paid", "paid"]
        same = send_together([body(second, transaction_id="RACE-C", amount=300_000)] * 2)
        assert same[0] == same[1] and same[0][0] == 200 and same[0][1]["status"] == "paid"
        with tenant_context(tule):
            assert FeePayment.objects.filter(invoice=first).count() == 1
            assert FeePayment.objects.filter(invoice=second).count() == 1
            assert sorted(FeePayment.objects.values_list("receipt_number", flat=True)) == [
                f"BL26{school.pk}-000001", f"BL26{school.pk}-000002"]
            assert FeeNotification.objects.count() == 3
    finally:
        with tenant_context(tule):
            FeeNotification.objects.all().delete()
            FeePayment.objects.all().delete()
            Invoice.objects.all().delete()  # lines cascade
            FeeItem.objects.all().delete()
            Enrolment.objects.all().delete()
            Student.objects.all().delete()
            SchoolClass.objects.all().delete()
            School.objects.all().delete()
            Semester.objects.all().delete()
            SchoolYear.objects.all().delete()
            Sequence.objects.all().delete()
            Resident.objects.filter(household__code="DT-001").delete()
            Household.objects.filter(code="DT-001").delete()
            Village.objects.filter(name="Bản Đua Tiền").delete()
