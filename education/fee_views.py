"""The fees' pages.

Staff (``/schools/fees/…``; the school is taken from the object and checked with
``permissions.can``: ``fees.read`` for the principal, vice-principals and the accountant,
``fees.manage`` for the principal and the accountant):

* ``fees/`` the schools the person keeps the fees of (one: straight to it);
* ``fees/<school>/`` the semester's fee items, the form to add one, issuing the invoices, the
  classes with their invoices paid and unpaid;
* ``fees/items/<pk>/`` a fee item changed or deleted;
* ``fees/classes/<pk>/`` a class's invoices, ``…/notices.pdf`` their payment notices (two to an A4
  page, with the VietQR code), ``…/remind/`` (POST) the SMS reminder of its overdue invoices;
* ``fees/invoices/<code>/`` an invoice with its payments, cash payment and cancelling (POST);
* ``fees/receipts/<pk>.pdf`` a payment's receipt;
* ``fees/<school>/arrears/`` (and ``.xlsx``) the overdue invoices per class;
* ``fees/<school>/notifications/`` the bank's notifications that paid nothing, to deal with.

Parents (``/my-children/invoices/…``): their children's invoices, one with its VietQR code (or,
for a school without an account, the request to pay at the school), and their receipts.

Every page or file that shows a student is written in the access log (``education.access``).
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import vietqr
from education import access, fee_pdf, fees, permissions
from education.fee_forms import CashForm, FeeItemForm
from education.models import FeeItem, FeePayment, Invoice, School, SchoolClass, Semester

page_requires = permissions.page_requires
MAX_ID = 2_147_483_647


def _get(model, pk, **related):
    if pk > MAX_ID:
        raise Http404
    queryset = model.objects.all()
    if related.get("select"):
        queryset = queryset.select_related(*related["select"])
    return get_object_or_404(queryset, pk=pk)


def _require(user, action, school):
    if not permissions.can(user, action, school):
        raise PermissionDenied


def _semester(request):
    value = request.GET.get("semester") or request.POST.get("semester") or ""
    if value.isdigit() and int(value) <= MAX_ID:
        found = Semester.objects.select_related("year").filter(pk=int(value)).first()
        if found:
            return found
    return fees.current_semester()


def _invoice(code) -> Invoice:
    invoice = Invoice.objects.select_related("school", "semester__year", "enrolment__school_class",
                                             "enrolment__student__resident").filter(code=str(code)[:20]).first()
    if invoice is None:
        raise Http404
    return invoice


def _pdf(data: bytes, filename: str, *, attachment=False) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'{"attachment" if attachment else "inline"}; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- staff ---------------------------------------------------------------------------------------

@page_requires("module.open")
def fee_home(request):
    schools = [s for s in permissions.schools_for(request.user).order_by("name")
               if permissions.can(request.user, "fees.read", s)]
    if not schools:
        raise PermissionDenied
    if len(schools) == 1:
        return redirect("education:fee_school", schools[0].pk)
    return render(request, "education/fees/home.html", {"schools": schools})


@page_requires("module.open")
def fee_school(request, pk):
    school = _get(School, pk)
    _require(request.user, "fees.read", school)
    semester = _semester(request)
    can_manage = permissions.can(request.user, "fees.manage", school)
    form = FeeItemForm(school=school, semester=semester, initial={"due_on": semester.starts_on if semester else None})
    if request.method == "POST":
        _require(request.user, "fees.manage", school)
        form = FeeItemForm(request.POST, school=school, semester=semester)
        if form.is_valid():
            try:
                item = fees.save_fee_item(request.user, school, semester=semester, **form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("The fee item “%(name)s” is saved. Issue the invoices to charge it.")
                                 % {"name": item.name})
                return HttpResponseRedirect(f"{reverse('education:fee_school', args=[school.pk])}?semester={semester.pk}")
    items = FeeItem.objects.filter(school=school, semester=semester).prefetch_related("classes") if semester else []
    classes = []
    if semester:
        for school_class in fees.classes_of(school, semester):
            invoices = Invoice.objects.filter(enrolment__school_class=school_class, semester=semester).exclude(
                state=Invoice.State.CANCELLED)
            classes.append({"class": school_class, "paid": invoices.filter(state=Invoice.State.PAID).count(),
                            "unpaid": invoices.filter(state=Invoice.State.UNPAID).count()})
    return render(request, "education/fees/school.html", {
        "school": school, "semester": semester, "semesters": fees.semesters(), "items": items, "form": form,
        "can_manage": can_manage, "classes": classes, "counts": fees.counts(school, semester) if semester else {},
        "has_account": fees.school_has_account(school), "waiting": fees.mismatches(school).count(),
    })


def _add_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error.message % (error.params or {})
                               if error.params else error.message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


@page_requires("module.open")
def fee_item(request, pk):
    item = _get(FeeItem, pk, select=["school", "semester__year"])
    school = item.school
    _require(request.user, "fees.manage", school)
    back = f"{reverse('education:fee_school', args=[school.pk])}?semester={item.semester_id}"
    form = FeeItemForm(school=school, semester=item.semester, initial={
        "name": item.name, "amount": item.amount, "classes": list(item.classes.values_list("pk", flat=True)),
        "due_on": item.due_on, "note": item.note})
    if request.method == "POST":
        if request.POST.get("delete"):
            try:
                fees.delete_fee_item(request.user, item)
            except ValidationError as exc:
                messages.error(request, exc.messages[0])
                return HttpResponseRedirect(reverse("education:fee_item", args=[item.pk]))
            messages.success(request, _("The fee item is deleted."))
            return HttpResponseRedirect(back)
        form = FeeItemForm(request.POST, school=school, semester=item.semester)
        if form.is_valid():
            try:
                fees.save_fee_item(request.user, school, semester=item.semester, item=item, **form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("The fee item is saved."))
                return HttpResponseRedirect(back)
    return render(request, "education/fees/item.html", {"item": item, "school": school, "form": form, "back": back})


@require_POST
@page_requires("module.open")
def fee_issue(request, pk):
    school = _get(School, pk)
    _require(request.user, "fees.manage", school)
    semester = _semester(request)
    if semester is None:
        messages.error(request, _("Choose the semester."))
        return HttpResponseRedirect(reverse("education:fee_school", args=[school.pk]))
    try:
        result = fees.issue_invoices(school, semester, user=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        text = _("Invoices issued: %(created)s new, %(extended)s with new lines, %(unchanged)s unchanged.") % {
            "created": result.created, "extended": result.extended, "unchanged": result.unchanged}
        if result.paid_unchanged:
            text += " " + _("%(count)s paid invoices were not changed: charge their new fees on the next "
                            "semester's invoice or in cash.") % {"count": result.paid_unchanged}
        messages.success(request, text)
    return HttpResponseRedirect(f"{reverse('education:fee_school', args=[school.pk])}?semester={semester.pk}")


@page_requires("module.open")
def fee_class(request, pk):
    school_class = _get(SchoolClass, pk, select=["school", "year"])
    school = school_class.school
    _require(request.user, "fees.read", school)
    semester = _semester(request)
    invoices = list(Invoice.objects.filter(enrolment__school_class=school_class, semester=semester)
                    .select_related("enrolment__student__resident").order_by("enrolment__number", "code"))
    access.log_class_read(request.user, school_class, what="fee invoices")
    return render(request, "education/fees/class.html", {
        "school": school, "school_class": school_class, "semester": semester, "invoices": invoices,
        "total_unpaid": sum(i.total for i in invoices if i.state == Invoice.State.UNPAID),
        "total_paid": sum(i.total for i in invoices if i.state == Invoice.State.PAID),
        "can_manage": permissions.can(request.user, "fees.manage", school),
    })


@page_requires("module.open")
def fee_class_notices(request, pk):
    school_class = _get(SchoolClass, pk, select=["school"])
    _require(request.user, "fees.read", school_class.school)
    semester = _semester(request)
    invoices = list(Invoice.objects.filter(enrolment__school_class=school_class, semester=semester)
                    .exclude(state=Invoice.State.CANCELLED)
                    .select_related("school", "semester__year", "enrolment__school_class", "enrolment__student__resident")
                    .prefetch_related("lines").order_by("enrolment__number", "code"))
    access.log_export(request.user, what=f"fee notices of class {school_class.name}", count=len(invoices))
    return _pdf(fee_pdf.render_notices(invoices), f"giay-bao-thu-{school_class.name}.pdf")


@require_POST
@page_requires("module.open")
def fee_class_remind(request, pk):
    school_class = _get(SchoolClass, pk, select=["school"])
    _require(request.user, "fees.read", school_class.school)
    try:
        result = fees.remind_class(request.user, school_class)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        if result.invoices:
            messages.success(request, _("A reminder SMS is being sent for %(count)s overdue invoices.")
                             % {"count": result.invoices})
        else:
            messages.info(request, _("No reminder was sent: no overdue invoice of the class waits for one "
                                     "(at most one a week per invoice, to the guardians' phones)."))
    return HttpResponseRedirect(reverse("education:fee_arrears", args=[school_class.school_id]))


@page_requires("module.open")
def fee_invoice(request, code):
    invoice = _invoice(code)
    _require(request.user, "fees.read", invoice.school)
    access.log_read(request.user, invoice.enrolment.student, what="fee invoice")
    return _invoice_page(request, invoice, CashForm(initial={"amount": fees.remaining(invoice) or None}))


def _invoice_page(request, invoice, cash_form):
    return render(request, "education/fees/invoice.html", {
        "invoice": invoice, "school": invoice.school, "lines": invoice.lines.all(),
        "payments": invoice.payments.all(), "remaining": fees.remaining(invoice), "cash_form": cash_form,
        "can_manage": permissions.can(request.user, "fees.manage", invoice.school),
        "notifications": [{"notice": n, "label": fees.outcome_label(n.outcome)} for n in invoice.notifications.all()],
    })


@require_POST
@page_requires("module.open")
def fee_invoice_cash(request, code):
    invoice = _invoice(code)
    _require(request.user, "fees.manage", invoice.school)
    form = CashForm(request.POST)
    if form.is_valid():
        try:
            payment = fees.pay_cash(request.user, invoice, form.cleaned_data["amount"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Paid in cash: receipt %(number)s.") % {"number": payment.receipt_number})
            return HttpResponseRedirect(reverse("education:fee_invoice", args=[invoice.code]))
    access.log_read(request.user, invoice.enrolment.student, what="fee invoice")
    return _invoice_page(request, invoice, form)


@require_POST
@page_requires("module.open")
def fee_invoice_cancel(request, code):
    invoice = _invoice(code)
    _require(request.user, "fees.manage", invoice.school)
    try:
        fees.cancel_invoice(request.user, invoice)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("The invoice is cancelled."))
    return HttpResponseRedirect(reverse("education:fee_invoice", args=[invoice.code]))


@page_requires("module.open")
def fee_receipt(request, pk):
    payment = _get(FeePayment, pk, select=["invoice__school", "invoice__semester__year",
                                           "invoice__enrolment__school_class", "invoice__enrolment__student__resident"])
    _require(request.user, "fees.read", payment.invoice.school)
    access.log_read(request.user, payment.invoice.enrolment.student, what="fee receipt")
    return _pdf(fee_pdf.render_receipt(payment), f"bien-lai-{payment.receipt_number}.pdf")


@page_requires("module.open")
def fee_arrears(request, pk):
    school = _get(School, pk)
    _require(request.user, "fees.read", school)
    groups = fees.arrears(school)
    access.log_export(request.user, channel="page", what=f"fee arrears of {school.name} (page)",
                      count=sum(len(g.invoices) for g in groups))
    return render(request, "education/fees/arrears.html", {
        "school": school, "groups": groups, "total": sum(g.total for g in groups)})


@page_requires("module.open")
def fee_arrears_xlsx(request, pk):
    school = _get(School, pk)
    _require(request.user, "fees.read", school)
    data = fees.arrears_xlsx(request.user, school, fees.arrears(school))
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="no-hoc-phi.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@page_requires("module.open")
def fee_notifications(request, pk):
    from education.models import FeeNotification

    school = _get(School, pk)
    _require(request.user, "fees.read", school)
    if request.method == "POST":
        _require(request.user, "fees.manage", school)
        value = request.POST.get("notification", "")
        notice = FeeNotification.objects.filter(pk=int(value), school=school).first() \
            if value.isdigit() and int(value) <= MAX_ID else None
        if notice is None:
            messages.error(request, _("This notification is not in the list."))
        else:
            fees.resolve_mismatch(request.user, notice)
            messages.success(request, _("The notification is marked as dealt with."))
        return HttpResponseRedirect(reverse("education:fee_notifications", args=[school.pk]))
    rows = [{"notice": n, "label": fees.outcome_label(n.outcome)}
            for n in fees.mismatches(school).select_related("invoice")]
    return render(request, "education/fees/notifications.html", {
        "school": school, "rows": rows, "can_manage": permissions.can(request.user, "fees.manage", school)})


# --- parents -------------------------------------------------------------------------------------

def _parent_invoice(request, code) -> Invoice:
    invoice = fees.invoice_for_parent(request.user, code)
    if invoice is None:
        raise Http404
    return invoice


@login_required
def my_invoices(request):
    invoices = list(fees.invoices_of_parent(request.user))
    for student_id in {i.enrolment.student_id for i in invoices}:
        access.log_read(request.user, student_id, what="fee invoices (parent)")
    return render(request, "education/fees/my_invoices.html", {"invoices": invoices})


@login_required
def my_invoice(request, code):
    invoice = _parent_invoice(request, code)
    access.log_read(request.user, invoice.enrolment.student, what="fee invoice (parent)")
    payload = fees.payload_for(invoice)
    return render(request, "education/fees/my_invoice.html", {
        "invoice": invoice, "lines": invoice.lines.all(), "payments": invoice.payments.all(),
        "remaining": fees.remaining(invoice), "payload": payload,
        "purpose": fees.purpose_for(invoice) if payload else "", "school": invoice.school,
    })


@login_required
def my_invoice_qr(request, code):
    invoice = _parent_invoice(request, code)
    payload = fees.payload_for(invoice)
    if not payload:
        raise Http404
    response = HttpResponse(vietqr.qr_png(payload, box_size=5), content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


@login_required
def my_receipt(request, code, pk):
    invoice = _parent_invoice(request, code)
    payment = invoice.payments.filter(pk=pk if pk <= MAX_ID else 0).first()
    if payment is None:
        raise Http404
    access.log_read(request.user, invoice.enrolment.student, what="fee receipt (parent)")
    return _pdf(fee_pdf.render_receipt(payment), f"bien-lai-{payment.receipt_number}.pdf")
