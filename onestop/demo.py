"""Demo dossiers of a commune: a half year of history that gives the pilots' figures, and
today's dossiers in every state.

* History (the six months before this one): dossiers received on working days, processed
  through every step of their procedure, returned and mostly rated, written as the records an
  installation imports from the desk's old system. Tú Lệ gets the pilot's own figures: 206
  dossiers, 198 results early and 8 on time, 90 % of the ratings satisfied. Other communes get
  a smaller, less perfect half year (a few late results).
* Today: dossiers taken through the real services (forms, codes, signatures with the demo PKI):
  a citizen's draft, one submitted online, one sent back to be completed, one refused, received
  ones at each step, one waiting for a supplement, one late with a form 4, one stopped, one
  withdrawn, one signed and ready, one returned.

Idempotent: a commune that already has dossiers is left alone.
"""
from __future__ import annotations

import datetime
import random
import uuid

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from communes.models import Role

TZ = datetime.timezone(datetime.timedelta(hours=7))

# Pilot figures (DOMAIN.md, "Facts from the pilots"): Tú Lệ, 206 dossiers, 198 early, 8 on time.
PILOT = {"04630": {"early": 198, "on_time": 8, "late": 0, "satisfied": 0.9}}
DEFAULT_HISTORY = {"early": 104, "on_time": 9, "late": 3, "satisfied": 0.86}

# How often each procedure comes to a commune desk (certified copies far ahead).
WEIGHTS = {
    "CT-01": 30, "CT-02": 8, "HT-01": 12, "HT-02": 5, "HT-03": 6, "HT-08": 8, "HT-09": 6, "CT-03": 4, "CT-04": 3,
    "HT-05": 3, "HT-04": 1, "HT-07": 1, "HT-06": 1, "BTXH-01": 2, "LT-01": 3,
}
FAMILY = ["Lò", "Lường", "Hà", "Vì", "Cầm", "Nguyễn", "Trần", "Hoàng", "Đinh", "Phạm", "Bùi", "Vũ", "Lê"]
MIDDLE = ["Văn", "Thị", "Đức", "Thị Thu", "Văn Hải", "Thị Mai", "Minh", "Thanh"]
GIVEN = ["An", "Bình", "Chiến", "Dung", "Giang", "Hạnh", "Hùng", "Lan", "Linh", "Nam", "Phương", "Quân", "Sơn",
         "Thảo", "Trang", "Tuấn", "Uyên", "Xuân", "Yến", "Ánh", "Đức", "Ngọc", "Khánh"]
COMMENTS = ["Cán bộ hướng dẫn tận tình.", "Trả kết quả sớm hơn hẹn.", "", "", "Thủ tục nhanh gọn.", ""]

CITIZEN_USERNAME = "congdan"

# The demo communes' fee account: a real bank of the NAPAS VietQR list (Agribank, where commune
# treasuries usually bank) and an account number that is visibly no real one (zeros and the
# commune's code); its name says that it is a test account and must not receive money.
DEMO_BANK_BIN = "970405"
DEMO_ACCOUNT_NAME = "TÀI KHOẢN THỬ NGHIỆM – UBND {commune}"


def _role(officials: dict, role) -> object | None:
    return officials.get(role) or officials.get(getattr(role, "value", role))


def _name(rng) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _phone(rng) -> str:
    return "0" + rng.choice(["912", "983", "868", "356", "978", "389"]) + f"{rng.randint(0, 999999):06d}"


def _id_number(rng, year: int, female: bool) -> str:
    century = (0 if year < 2000 else 2) + (1 if female else 0)
    return f"015{century}{year % 100:02d}{rng.randint(0, 999999):06d}"


def _applicant(rng) -> dict:
    year = rng.randint(1955, 2004)
    name = _name(rng)
    return {
        "applicant_name": name,
        "applicant_id_number": _id_number(rng, year, " Thị" in name),
        "applicant_phone": _phone(rng),
        "applicant_address": "",
    }


def demo_account(commune) -> bool:
    """Give a demo commune without a bank account the fictitious one, so that its fees show a
    VietQR; an account the commune has is never replaced. True when one was given."""
    from communes.models import Commune

    if commune.bank_bin or commune.bank_account:
        return False
    fields = {"bank_bin": DEMO_BANK_BIN, "bank_account": f"00000000{commune.code}",
              "bank_account_name": DEMO_ACCOUNT_NAME.format(commune=commune.name_in_sentence.upper())}
    Commune.objects.filter(pk=commune.pk, bank_bin="", bank_account="").update(**fields)
    for name, value in fields.items():
        setattr(commune, name, value)
    return True


def populate(commune, officials: dict, *, seed: int | None = None, citizen=None, leader_pin: str | None = None,
             clerk_pin: str | None = None) -> dict:
    """Demo dossiers in ``commune``; an empty dict when it already has some. The PINs open the
    chairman's and the clerk's signing keys (the demo PKI's by default). A commune without a
    bank account gets the demo's fictitious one first (``demo_account``)."""
    from communes.demo import DEMO_PIN

    from onestop.models import Dossier

    demo_account(commune)

    officer = _role(officials, Role.ONESTOP_OFFICER)
    specialist = _role(officials, Role.SPECIALIST)
    chairman = _role(officials, Role.CHAIRMAN)
    clerk = _role(officials, Role.CLERK)
    if None in (officer, specialist, chairman, clerk):
        return {}
    rng = random.Random(seed if seed is not None else int(commune.code))
    with tenant_context(commune):
        if Dossier.objects.exists():
            return {}
        history = PILOT.get(commune.code, DEFAULT_HISTORY)
        with transaction.atomic():
            made = _history(rng, history, officer, specialist, chairman)
        today = _today(rng, officer, specialist, chairman, clerk, citizen,
                       leader_pin or DEMO_PIN, clerk_pin or DEMO_PIN)
    return {"history": made, "today": today}


# --- history ----------------------------------------------------------------------------------

def _working_moments(start: datetime.date, end: datetime.date, rng, count: int) -> list[datetime.datetime]:
    from workcalendar.services import is_working_day

    days = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
    days = [d for d in days if is_working_day(d)]
    moments = []
    for _ in range(count):
        day = rng.choice(days)
        hour, minute = rng.choice([(7, 45), (8, 10), (8, 40), (9, 15), (9, 50), (10, 30), (13, 20), (14, 5),
                                   (14, 45), (15, 20), (15, 50), (16, 10)])
        moments.append(datetime.datetime.combine(day, datetime.time(hour, minute), TZ))
    return sorted(moments)


def _completion(rng, outcome: str, received: datetime.datetime, due: datetime.datetime) -> datetime.datetime | None:
    """A completion moment of the wanted class, or None when the procedure cannot give it."""
    from workcalendar.services import add_working_days, working_days_between

    due_local = due.astimezone(TZ)
    received_local = received.astimezone(TZ)
    if outcome == "early":
        span = working_days_between(received_local.date(), due_local.date())
        if span < 1:
            return None
        day = add_working_days(received_local.date(), rng.randint(0, span - 1))
        moment = datetime.datetime.combine(day, datetime.time(rng.choice([9, 10, 14, 15, 16]), rng.choice([0, 20, 40])), TZ)
        return max(moment, received_local + datetime.timedelta(minutes=40))
    if outcome == "on_time":
        start = max(received_local, datetime.datetime.combine(due_local.date(), datetime.time(7, 30), TZ))
        window = (due_local - start).total_seconds()
        if window < 600:
            return None
        return start + datetime.timedelta(seconds=rng.uniform(window * 0.4, window - 60))
    day = add_working_days(due_local.date(), rng.randint(1, 3))
    return datetime.datetime.combine(day, datetime.time(rng.choice([9, 10, 15]), 30), TZ)


def _history(rng, figures: dict, officer, specialist, chairman) -> dict:
    from onestop import fees, services
    from onestop.deadlines import appointment, classify
    from onestop.models import (
        Delivery, Dossier, DossierEvent, DossierState, EventKind, Payment, PaymentMethod, Procedure, Rating,
        StepKind,
    )

    procedures = {p.code: p for p in Procedure.objects.filter(is_current=True, code__in=WEIGHTS).prefetch_related("steps")}
    codes = [code for code in WEIGHTS if code in procedures]
    weights = [WEIGHTS[code] for code in codes]
    today = timezone.localdate()
    end = today.replace(day=1) - datetime.timedelta(days=1)  # the last day of last month
    start = (end.replace(day=1) - datetime.timedelta(days=160)).replace(day=1)  # six whole months
    outcomes = ["early"] * figures["early"] + ["on_time"] * figures["on_time"] + ["late"] * figures["late"]
    rng.shuffle(outcomes)
    moments = _working_moments(start, end, rng, len(outcomes))
    names = {officer.pk: services.user_name(officer), specialist.pk: services.user_name(specialist),
             chairman.pk: services.user_name(chairman)}
    counts = {"early": 0, "on_time": 0, "late": 0, "rated": 0}
    for received, outcome in zip(moments, outcomes):
        for _attempt in range(20):
            procedure = procedures[rng.choices(codes, weights)[0]]
            due = appointment(procedure, received)
            completed = _completion(rng, outcome, received, due)
            if completed is not None and classify(completed, due) == outcome:
                break
        else:
            continue
        person = _applicant(rng)
        pages = rng.randint(1, 6) if fees.needs_pages(procedure) else 0
        dossier = Dossier(
            procedure=procedure, channel=rng.choice(["counter"] * 4 + ["online"]), state=DossierState.RETURNED,
            **person, page_count=pages, copy_count=rng.randint(1, 3) if pages else 1,
            submitted_at=received, received_at=received, received_by=officer, due_at=due, original_due_at=due,
            completed_at=completed, returned_at=completed + datetime.timedelta(minutes=rng.randint(20, 600)),
            delivery=Delivery.COUNTER, signer_id=chairman.pk,
        )
        dossier.code = services.draw_code(received)
        dossier.fee_amount = fees.compute_fee(procedure, pages=dossier.page_count, copies=dossier.copy_count)
        dossier.save()
        steps = list(procedure.steps.order_by("order"))
        events = [DossierEvent(dossier=dossier, kind=EventKind.RECEIVED, at=received, actor=officer,
                               actor_name=names[officer.pk], to_step=steps[0] if steps else None,
                               to_user=officer, to_user_name=names[officer.pk], step_started_at=received)]
        holders = {StepKind.RECEIVE: officer, StepKind.PROCESS: specialist, StepKind.APPROVE: chairman,
                   StepKind.SIGN: chairman, StepKind.RETURN: officer}
        span = completed - received
        handovers = [s for s in steps if s.kind not in (StepKind.RETURN,)]
        previous_at = received
        for index, (step, following) in enumerate(zip(handovers, steps[1:])):
            at = received + span * (index + 1) / (len(handovers) + 1) if following.kind != StepKind.RETURN else completed
            giver, taker = holders[step.kind], holders[following.kind]
            events.append(DossierEvent(
                dossier=dossier, kind=EventKind.HANDOVER, at=at, actor=giver, actor_name=names[giver.pk],
                from_step=step, to_step=following, to_user=taker, to_user_name=names[taker.pk],
                step_started_at=previous_at, step_due_at=services.step_due(step, previous_at),
            ))
            previous_at = at
        events.append(DossierEvent(dossier=dossier, kind=EventKind.RESULT_READY, at=completed, actor=chairman,
                                   actor_name=names[chairman.pk]))
        events.append(DossierEvent(dossier=dossier, kind=EventKind.RETURNED, at=dossier.returned_at, actor=officer,
                                   actor_name=names[officer.pk]))
        DossierEvent.objects.bulk_create(events)
        if dossier.fee_amount:
            Payment.objects.create(dossier=dossier, amount=dossier.fee_amount, received_at=received,
                                   method=rng.choice([PaymentMethod.CASH, PaymentMethod.CASH, PaymentMethod.VIETQR]),
                                   recorded_by=officer)
            Dossier.objects.filter(pk=dossier.pk).update(fee_paid_at=received)
        if rng.random() < 0.8:
            satisfied = rng.random() < figures["satisfied"]
            score = rng.choice([Rating.Score.VERY_SATISFIED, Rating.Score.SATISFIED]) if satisfied else Rating.Score.NOT_SATISFIED
            rating = Rating.objects.create(dossier=dossier, score=score, comment=rng.choice(COMMENTS))
            Rating.objects.filter(pk=rating.pk).update(created_at=dossier.returned_at + datetime.timedelta(hours=2))
            counts["rated"] += 1
        counts[outcome] += 1
    return counts


# --- today ------------------------------------------------------------------------------------

def _checklist(procedure) -> dict:
    return {r.pk: True for r in procedure.requirements.all()}


# Plausible answers for the catalogue's application fields, by the field's name.
TEXT_ANSWERS = {
    "ethnicity": ["Thái", "Kinh", "Mường", "Mông"],
    "relationship": ["Cha", "Mẹ", "Ông nội"],
    "place": ["Trạm Y tế xã Tú Lệ", "Bệnh viện Đa khoa khu vực Nghĩa Lộ"],
    "residence": ["Bản Lướt, xã Tú Lệ", "Bản Phạ, xã Tú Lệ"],
    "id_number": ["015090123456", "015195004321"],
    "cause": ["Bệnh già"],
    "purpose": ["Bổ sung hồ sơ đăng ký kết hôn", "Nộp hồ sơ xin việc"],
    "document_name": ["Bằng tốt nghiệp trung học phổ thông", "Giấy khai sinh"],
    "original_record": ["Giấy khai sinh"],
    "number": ["25", "112"],
    "reason": ["Thông tin trong giấy tờ bị ghi sai so với hồ sơ gốc."],
    "content": ["Ngày sinh: 12/03/1990"],
    "description": ["Xe máy Honda Wave, giấy đăng ký xe số 021345"],
    "parties": ["Ông Lò Văn An và bà Hà Thị Bình"],
}


def _answer(name: str, rng) -> str:
    for key, answers in TEXT_ANSWERS.items():
        if key in name:
            return rng.choice(answers)
    return _name(rng) if name.endswith("name") else "Bản Lướt, xã Tú Lệ"


def _form_data(procedure, rng) -> dict:
    data = {}
    for spec in procedure.form_fields or []:
        kind, name = spec.get("type", "text"), spec["name"]
        if spec.get("choices"):
            choice = rng.choice(spec["choices"])
            data[name] = choice[0] if isinstance(choice, (list, tuple)) else choice
        elif kind == "date":
            days = rng.randint(3, 40) if "child" in name or name in ("death_date", "registration_date") else rng.randint(7000, 25000)
            data[name] = (timezone.localdate() - datetime.timedelta(days=days)).strftime("%d/%m/%Y")
        elif kind == "number":
            data[name] = "1"
        else:
            data[name] = _answer(name, rng)
    return data


def _intake(procedure, officer, rng, **extra):
    from onestop import fees, services

    person = _applicant(rng)
    applicant = {"name": person["applicant_name"], "id_number": person["applicant_id_number"],
                 "phone": person["applicant_phone"], "email": "", "address": ""}
    pages = 3 if fees.needs_pages(procedure) else 0
    return services.counter_intake(
        user=officer, procedure=procedure, applicant=applicant, checklist=_checklist(procedure),
        form_data=_form_data(procedure, rng), page_count=pages, submit_token=uuid.uuid4(), **extra,
    )


def _run_signing_jobs(schema_name: str) -> None:
    from jobs.models import JobState
    from jobs.services import execute
    from signatures.models import SigningJob

    for pk in SigningJob.objects.filter(state=JobState.QUEUED).values_list("pk", flat=True):
        execute(SigningJob, pk, schema_name)


def _to_signing(dossier, officer, specialist, chairman):
    """Hand the dossier over step by step until the leader's signature is due."""
    from onestop import services
    from onestop.models import StepKind

    holders = {StepKind.RECEIVE: officer, StepKind.PROCESS: specialist, StepKind.APPROVE: chairman}
    for _ in range(6):
        dossier.refresh_from_db()
        if services.at_signing_step(dossier):
            return dossier
        step = dossier.current_step
        following = services.next_step(dossier, step)
        taker = {StepKind.PROCESS: specialist, StepKind.APPROVE: chairman, StepKind.SIGN: chairman}.get(following.kind)
        dossier = services.hand_over(dossier=dossier, user=holders[step.kind], to_user_id=getattr(taker, "pk", None))
    return dossier


def _today(rng, officer, specialist, chairman, clerk, citizen, leader_pin: str, clerk_pin: str) -> dict:
    from django.db import connection

    from onestop import services
    from onestop.models import Procedure
    from workcalendar.services import add_working_days

    procedures = {p.code: p for p in Procedure.objects.filter(is_current=True)}
    made: dict[str, int] = {}

    def count(key):
        made[key] = made.get(key, 0) + 1

    # At the desk: received (a certified copy among them, its fee still to pay by VietQR), at each
    # step, waiting for a supplement, late with form 4, stopped.
    birth, copy, marriage, status = (procedures.get(c) for c in ("HT-01", "CT-01", "HT-03", "HT-08"))
    for procedure in (p for p in (birth, marriage, status, copy) if p):
        _intake(procedure, officer, rng)
        count("received")
    if status:
        dossier = _intake(status, officer, rng)
        services.hand_over(dossier=dossier, user=officer, to_user_id=specialist.pk)
        count("in_progress")
        dossier = _intake(status, officer, rng)
        dossier = services.hand_over(dossier=dossier, user=officer, to_user_id=specialist.pk)
        services.request_supplement(dossier=dossier, user=specialist,
                                    items=["Bản sao giấy chứng tử của vợ/chồng đã mất"], reason="Để xác định tình trạng hôn nhân.")
        count("supplement")
        dossier = _intake(status, officer, rng)
        dossier = services.hand_over(dossier=dossier, user=officer, to_user_id=specialist.pk)
        # Form 4's new date: the end of the third working day after the appointment.
        services.extend(dossier=dossier, user=officer, new_due_at=add_working_days(dossier.due_at, 3),
                        reason="Cần xác minh tại nơi cư trú trước đây của người yêu cầu.")
        count("extended")
        dossier = _intake(status, officer, rng)
        dossier = services.hand_over(dossier=dossier, user=officer, to_user_id=specialist.pk)
        services.stop(dossier=dossier, user=officer, reason="Người yêu cầu đề nghị dừng giải quyết để bổ sung giấy tờ ở nơi khác.")
        count("stopped")
    if birth:
        _intake(birth, officer, rng, decision="incomplete", missing=["Bản chính Giấy chứng sinh"])
        count("incomplete")
    if copy:
        _intake(copy, officer, rng, decision="refuse", reason="Bản chính có dấu hiệu bị tẩy xóa, sửa chữa nội dung.")
        count("refused")
    # Signed results, one ready and one returned.
    for state in ("result_ready", "returned"):
        procedure = status or birth
        if procedure is None:
            break
        dossier = _to_signing(_intake(procedure, officer, rng), officer, specialist, chairman)
        try:
            services.sign_result_leader(dossier=dossier, user=chairman, pin=leader_pin)
            _run_signing_jobs(connection.schema_name)
            dossier.refresh_from_db()
            services.sign_result_agency(dossier=dossier, user=clerk, pin=clerk_pin)
            _run_signing_jobs(connection.schema_name)
            dossier.refresh_from_db()
        except Exception:  # noqa: BLE001 - without the demo PKI the dossier stays at the signature step
            count("awaiting_signature")
            continue
        if state == "returned" and dossier.state == "result_ready":
            services.return_result(dossier=dossier, user=officer)
        count(state)
    # Online: a citizen's draft, one submitted and one withdrawn.
    if citizen is not None and status is not None:
        applicant = {"name": services.user_name(citizen), "phone": citizen.phone, "email": citizen.email,
                     "id_number": "", "address": ""}
        services.save_draft(citizen=citizen, procedure=status, applicant=applicant, form_data=_form_data(status, rng))
        count("draft")
        online = [p for p in procedures.values() if p.takes_dossiers and p.online_level != "none"]
        for procedure in online[:2]:
            dossier = services.save_draft(citizen=citizen, procedure=procedure, applicant=applicant,
                                          form_data=_form_data(procedure, rng))
            try:
                dossier = _upload_all(dossier, citizen)
                services.submit(dossier=dossier, citizen=citizen, submit_token=uuid.uuid4())
                count("submitted")
            except Exception:  # noqa: BLE001 - a procedure whose online form asks more than the demo fills
                continue
        submitted = services_dossiers(citizen, "submitted")
        if len(submitted) > 1:
            services.withdraw(dossier=submitted[-1], citizen=citizen)
            count("withdrawn")
    return made


def services_dossiers(citizen, state):
    from onestop.models import Dossier

    return list(Dossier.objects.filter(citizen_id=citizen.pk, state=state).order_by("pk"))


def _upload_all(dossier, citizen):
    """Attach a small PDF to every required document of an online draft."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from documents.rendering import FONT, register_fonts
    from onestop import services

    register_fonts()
    for requirement in dossier.procedure.requirements.filter(required=True):
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=A4)
        pdf.setFont(FONT, 14)
        pdf.drawString(72, 760, requirement.name[:80])
        pdf.showPage()
        pdf.save()
        services.add_file(dossier=dossier, user=citizen, requirement_id=requirement.pk,
                          upload=SimpleUploadedFile("giay-to.pdf", buffer.getvalue(), content_type="application/pdf"))
    dossier.refresh_from_db()
    return dossier


def seed_demo(context) -> None:
    """The demo step (``communes.modules.DemoStep``): a half year of dossiers, and today's in
    every state (results signed with the demo PKI)."""
    for _spec, commune in context.communes:
        made = populate(commune, context.officials(commune), citizen=context.citizen,
                        leader_pin=context.pin, clerk_pin=context.pin)
        if made:
            history = made["history"]
            context.out(
                f"  {commune}: {sum(history[k] for k in ('early', 'on_time', 'late'))} dossiers in the last six "
                f"months ({history['early']} early, {history['on_time']} on time, {history['late']} late); "
                f"today: {', '.join(f'{n} {state}' for state, n in made['today'].items())}")
