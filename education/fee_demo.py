"""The fees' demo: in each school of each demo commune, fee items of the current year's semester 1,
the invoices issued, and about 70% of them paid (most by VietQR transfer, some in cash).

Public schools charge no tuition from the school year 2025-2026 (Resolution 217/2025/QH15), so the
items are those a public school may still collect: the student health insurance (4.5% of the base
salary of 2.340.000 đ for 12 months, less the State's 30% support: 884.520 đ a year, 442.260 đ for
six months),
boarding meals for the lower-secondary school's semi-boarding pupils, a school uniform, and the
primary school's day-boarding (bán trú) meals. Idempotent: a school with fee items of the
semester is left as it is.
"""
from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from education import fees
from education.models import FeeItem, FeePayment, Invoice, School, SchoolLevel, Semester

ITEMS = {
    SchoolLevel.PRIMARY: [("Bảo hiểm y tế học sinh (6 tháng)", 442_260), ("Đồng phục học sinh", 250_000),
                          ("Tiền ăn bán trú tháng 9–12", 1_200_000)],
    SchoolLevel.LOWER_SECONDARY: [("Bảo hiểm y tế học sinh (6 tháng)", 442_260), ("Đồng phục học sinh", 300_000),
                                  ("Tiền ăn học sinh bán trú tháng 9–12", 1_400_000)],
}
PAID_SHARE = 0.7


def seed_school(school, semester, rng) -> dict | None:
    if FeeItem.objects.filter(school=school, semester=semester).exists():
        return None
    classes = list(fees.classes_of(school, semester))
    if not classes:
        return None
    specs = ITEMS.get(school.level, ITEMS[SchoolLevel.PRIMARY])
    due = semester.starts_on + datetime.timedelta(days=45)
    with transaction.atomic():
        for name, amount in specs:
            item = FeeItem.objects.create(school=school, semester=semester, name=name, amount=amount, due_on=due)
            # boarding meals only for the classes of the upper grades of the school
            charged = classes if "ăn" not in name else classes[len(classes) // 2:]
            item.classes.set(charged)
        result = fees.issue_invoices(school, semester)
        invoices = list(Invoice.objects.filter(school=school, semester=semester).order_by("pk"))
        payments = []
        paid = [invoice for invoice in invoices if rng.random() < PAID_SHARE]
        now = timezone.now()
        first = fees.draw_numbers(f"fees.receipt.{school.pk}.{semester.year_id}", len(paid)) if paid else 0
        for number, invoice in enumerate(paid, start=first):
            bank = rng.random() < 0.75
            at = min(now, timezone.make_aware(datetime.datetime.combine(
                semester.starts_on + datetime.timedelta(days=rng.randrange(3, 60)), datetime.time(9 + rng.randrange(8)))))
            payments.append(FeePayment(
                invoice=invoice, amount=invoice.total, method=FeePayment.Method.BANK if bank else FeePayment.Method.CASH,
                transaction_id=f"DEMO{school.pk}{invoice.pk:08d}" if bank else None,
                receipt_number=fees.receipt_number(school, semester, number), received_at=at))
            invoice.state, invoice.paid_at = Invoice.State.PAID, at
        FeePayment.objects.bulk_create(payments)
        Invoice.objects.bulk_update(paid, ["state", "paid_at"])
    return {"invoices": result.created, "paid": len(paid)}


def seed(context) -> None:
    for spec, commune in context.communes:
        with tenant_context(commune):
            semester = Semester.objects.filter(year__current=True, number=1).select_related("year").first()
            if semester is None:
                continue
            rng = random.Random(int(getattr(spec, "code", 0) or 0) + 2026)
            for school in School.objects.filter(active=True).order_by("pk"):
                made = seed_school(school, semester, rng)
                if made and getattr(context, "out", None):
                    context.out(f"  {school.name}: {made['invoices']} invoices, {made['paid']} paid")
