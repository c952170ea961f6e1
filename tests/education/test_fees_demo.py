"""The fees' demo part on Tú Lệ's test schools: lawful fee items of semester 1 (no tuition), the
invoices issued to every student, about 70% paid by transfer or in cash with gap-free receipt
numbers, and nothing more on a second run."""
from __future__ import annotations

import types

import pytest

pytestmark = pytest.mark.django_db(transaction=False)


def test_demo_fees_seed_once(tule, in_commune, schoolyard):
    from education import fee_demo
    from education.models import Enrolment, FeeItem, FeePayment, Invoice

    lines: list[str] = []
    context = types.SimpleNamespace(communes=[(types.SimpleNamespace(code=tule.code), tule)], out=lines.append)
    fee_demo.seed(context)
    with in_commune(tule):
        names = set(FeeItem.objects.values_list("name", flat=True))
        assert "Bảo hiểm y tế học sinh (6 tháng)" in names
        assert not any("học phí" in n.lower() for n in names)  # tuition is free (Resolution 217/2025/QH15)
        assert Invoice.objects.count() == Enrolment.objects.filter(status="active").count() == 8
        paid = Invoice.objects.filter(state="paid")
        assert 3 <= paid.count() <= 8
        assert FeePayment.objects.count() == paid.count()
        assert all(p.amount == p.invoice.total for p in FeePayment.objects.select_related("invoice"))
        for school in (schoolyard["thcs"], schoolyard["primary"]):
            numbers = sorted(FeePayment.objects.filter(invoice__school=school).values_list("receipt_number", flat=True))
            assert numbers == [f"BL26{school.pk}-{n:06d}" for n in range(1, len(numbers) + 1)]
        before = (FeeItem.objects.count(), Invoice.objects.count(), FeePayment.objects.count())
    assert lines
    fee_demo.seed(context)
    with in_commune(tule):
        assert (FeeItem.objects.count(), Invoice.objects.count(), FeePayment.objects.count()) == before
