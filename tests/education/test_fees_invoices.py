"""Fee items and invoices: the amounts and classes a fee item takes (whole grades with one click),
invoices issued once per student and semester with a line per fee, running again adds only what is
missing (lines on unpaid invoices; a paid invoice is never changed), gap-free codes short enough
for a transfer's purpose, cash payments of exactly what remains, cancelling."""
from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

pytestmark = pytest.mark.django_db(transaction=False)


def messages_of(exc: ValidationError) -> dict:
    return {k: [str(m) for m in v] for k, v in exc.message_dict.items()} if hasattr(exc, "error_dict") else exc.messages


@pytest.fixture
def fees_ready(tule, in_commune, schoolyard, school_people):
    from education import fees

    y = schoolyard
    with in_commune(tule):
        insurance = fees.save_fee_item(school_people["accountant"], y["thcs"], semester=y["sem1"],
                                       name="Bảo hiểm y tế học sinh", amount=442_260, grades=[6],
                                       due_on=datetime.date(2026, 10, 15))
        uniform = fees.save_fee_item(school_people["principal"], y["thcs"], semester=y["sem1"],
                                     name="Đồng phục", amount=300_000, classes=[y["class6a"].pk],
                                     due_on=datetime.date(2026, 10, 1))
        yield {**y, "insurance": insurance, "uniform": uniform}


def test_fee_item_amounts_classes_and_grades(tule, in_commune, fees_ready, school_people):
    from education import fees
    from education.models import FeeItem

    f, p = fees_ready, school_people
    with in_commune(tule):
        assert set(f["insurance"].classes.all()) == {f["class6a"], f["class6b"]}  # the whole grade 6
        assert list(f["uniform"].classes.all()) == [f["class6a"]]
        for amount, field in ((0, "amount"), (-5, "amount"), (50_000_001, "amount"), ("abc", "amount"), (True, "amount")):
            with pytest.raises(ValidationError) as refused:
                fees.save_fee_item(p["accountant"], f["thcs"], semester=f["sem1"], name="Quỹ X", amount=amount,
                                   grades=[6])
            assert field in refused.value.message_dict
            assert "50.000.000 đ" in refused.value.message_dict["amount"][0]
        # the highest amount allowed is fine
        top = fees.save_fee_item(p["accountant"], f["thcs"], semester=f["sem1"], name="Tiền ăn bán trú cả năm",
                                 amount=50_000_000, grades=[6])
        assert top.amount == 50_000_000
        with pytest.raises(ValidationError) as refused:
            fees.save_fee_item(p["accountant"], f["thcs"], semester=f["sem1"], name="bảo hiểm y tế HỌC SINH",
                               amount=1000, grades=[6])
        assert refused.value.message_dict["name"] == ["Trường đã có khoản thu cùng tên trong học kỳ này."] or \
            "name" in refused.value.message_dict
        with pytest.raises(ValidationError) as refused:  # a class of another school
            fees.save_fee_item(p["accountant"], f["thcs"], semester=f["sem1"], name="Khác", amount=1000,
                               classes=[f["class1a"].pk])
        assert "classes" in refused.value.message_dict
        with pytest.raises(ValidationError) as refused:  # no class at all
            fees.save_fee_item(p["accountant"], f["thcs"], semester=f["sem1"], name="Khác", amount=1000)
        assert "classes" in refused.value.message_dict
        for who in ("vice", "math", "clerk", "primary_principal", "chairman"):
            with pytest.raises(Exception):
                fees.save_fee_item(p[who], f["thcs"], semester=f["sem1"], name="Khác", amount=1000, grades=[6])
        assert FeeItem.objects.filter(school=f["thcs"]).count() == 3


def test_issue_is_idempotent_adds_lines_to_unpaid_and_leaves_paid(tule, in_commune, fees_ready, school_people):
    from education import fees
    from education.models import Invoice, InvoiceLine

    f, p = fees_ready, school_people
    with in_commune(tule):
        result = fees.issue_invoices(f["thcs"], f["sem1"], user=p["accountant"])
        assert (result.created, result.extended, result.unchanged) == (5, 0, 0)  # 6A's five students; 6B is empty
        invoices = list(Invoice.objects.filter(school=f["thcs"]).order_by("code"))
        assert [i.total for i in invoices] == [742_260] * 5
        assert all(i.due_on == datetime.date(2026, 10, 1) for i in invoices)  # the earliest due date
        codes = [i.code for i in invoices]
        school = f["thcs"].pk
        assert codes == [f"HP26{school}-{n:06d}" for n in range(1, 6)]  # gap-free, ASCII
        assert all(len(fees.purpose_for(i)) <= 25 and i.code in fees.purpose_for(i) for i in invoices)
        assert {tuple(sorted(i.lines.values_list("name", "amount"))) for i in invoices} == {
            (("Bảo hiểm y tế học sinh", 442_260), ("Đồng phục", 300_000))}

        again = fees.issue_invoices(f["thcs"], f["sem1"], user=p["accountant"])
        assert (again.created, again.extended, again.unchanged) == (0, 0, 5)
        assert Invoice.objects.filter(school=f["thcs"]).count() == 5 and InvoiceLine.objects.count() == 10

        paid = invoices[0]
        payment = fees.pay_cash(p["accountant"], paid, 742_260)
        assert payment.receipt_number == f"BL26{school}-000001"
        fees.save_fee_item(p["accountant"], f["thcs"], semester=f["sem1"], name="Sổ liên lạc", amount=20_000,
                           grades=[6])
        third = fees.issue_invoices(f["thcs"], f["sem1"], user=p["accountant"])
        assert (third.created, third.extended, third.unchanged, third.paid_unchanged) == (0, 4, 0, 1)
        paid.refresh_from_db()
        assert paid.total == 742_260 and paid.lines.count() == 2 and paid.state == Invoice.State.PAID
        assert sorted(Invoice.objects.filter(state="unpaid").values_list("total", flat=True)) == [762_260] * 4
        # a new student of 6B gets an invoice with the next code; nobody else changes
        from education.models import Enrolment, Student
        from population import services
        from population.models import Resident

        child = services.save_resident(Resident(household=f["household"], full_name="Lò Văn Mới",
                                                birth_date=datetime.date(2015, 8, 8), sex="male", relation="child",
                                                ethnicity="03"))
        student = Student.objects.create(resident=child)
        Enrolment.objects.create(student=student, school_class=f["class6b"], year=f["year"], number=1,
                                 starts_on=f["year"].starts_on)
        fourth = fees.issue_invoices(f["thcs"], f["sem1"], user=p["accountant"])
        assert (fourth.created, fourth.unchanged, fourth.paid_unchanged) == (1, 4, 1)
        new = Invoice.objects.get(enrolment__student=student)
        assert new.code == f"HP26{school}-000006" and new.total == 462_260  # 6B: insurance and the contact book

        with pytest.raises(ValidationError) as refused:  # its amount is on invoices now
            fees.save_fee_item(p["accountant"], f["thcs"], semester=f["sem1"], item=f["uniform"], name="Đồng phục",
                               amount=350_000, classes=[f["class6a"].pk])
        assert "amount" in refused.value.message_dict
        with pytest.raises(ValidationError):
            fees.delete_fee_item(p["accountant"], f["uniform"])


def test_nothing_to_issue_and_other_schools_refused(tule, in_commune, schoolyard, school_people):
    from django.core.exceptions import PermissionDenied

    from education import fees
    from education.models import Invoice

    y, p = schoolyard, school_people
    with in_commune(tule):
        with pytest.raises(ValidationError) as refused:
            fees.issue_invoices(y["thcs"], y["sem1"], user=p["accountant"])
        assert refused.value.code == "no_items"
        with pytest.raises(PermissionDenied):
            fees.issue_invoices(y["thcs"], y["sem1"], user=p["primary_principal"])
        with pytest.raises(PermissionDenied):
            fees.issue_invoices(y["thcs"], y["sem1"], user=p["math"])
        assert not Invoice.objects.exists()


def test_cash_payment_must_be_exactly_what_remains(tule, in_commune, fees_ready, school_people):
    from django.core.exceptions import PermissionDenied

    from education import fees
    from education.models import FeePayment, Invoice

    f, p = fees_ready, school_people
    with in_commune(tule):
        fees.issue_invoices(f["thcs"], f["sem1"])
        invoice, other, third = Invoice.objects.order_by("code")[:3]
        for amount in (742_259, 742_261, "7x", 0):
            with pytest.raises(ValidationError) as refused:
                fees.pay_cash(p["accountant"], invoice, amount)
            assert refused.value.message_dict.get("amount")
        with pytest.raises(ValidationError) as refused:
            fees.pay_cash(p["accountant"], invoice, 742_259)
        assert "742.260 đ" in refused.value.message_dict["amount"][0]
        for who in ("vice", "math", "primary_principal"):
            with pytest.raises(PermissionDenied):
                fees.pay_cash(p[who], invoice, 742_260)
        assert not FeePayment.objects.exists()
        payment = fees.pay_cash(p["principal"], invoice, "742.260")
        assert payment.method == "cash" and payment.received_by == p["principal"] and payment.transaction_id is None
        with pytest.raises(ValidationError) as refused:
            fees.pay_cash(p["accountant"], invoice, 742_260)
        assert refused.value.code == "already_paid"
        with pytest.raises(ValidationError):
            fees.cancel_invoice(p["accountant"], invoice)  # paid: stays
        fees.cancel_invoice(p["accountant"], other)
        with pytest.raises(ValidationError) as refused:
            fees.pay_cash(p["accountant"], other, 742_260)
        assert refused.value.code == "invoice_cancelled"
        # a cancelled invoice gives way to a new one on the next issue
        result = fees.issue_invoices(f["thcs"], f["sem1"])
        assert result.created == 1
        assert fees.pay_cash(p["accountant"], third, 742_260).receipt_number.endswith("-000002")
        assert FeePayment.objects.count() == 2
