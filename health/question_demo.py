"""The demo's questions to the doctor and deaths, in each demo commune: a few questions of the
demo citizen (one waiting, one answered privately, two published in the staff's anonymised
wording) and a few deaths of older residents over the past year, for the monthly report."""
from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from health.models import Death, Question
from population.models import Resident

QUESTIONS = [
    # (title, body, wants_public, answer, public title, public body)
    ("Con bị sốt cao về đêm", "Con tôi 3 tuổi sốt 39 độ từ tối qua, ăn kém. Tôi nên làm gì trước khi đưa cháu đến trạm?",
     True, "Cho cháu uống nhiều nước, lau mát bằng nước ấm, dùng paracetamol theo cân nặng (10–15 mg/kg, cách nhau "
     "4–6 giờ). Nếu cháu co giật, li bì, nôn nhiều hoặc sốt quá 2 ngày, hãy đưa đến trạm ngay.",
     "Trẻ nhỏ sốt cao về đêm", "Trẻ 3 tuổi sốt 39 độ, ăn kém: cần làm gì trước khi đưa đến trạm?"),
    ("Lịch tiêm cho cháu 2 tháng", "Cháu nhà tôi được 2 tháng, bao giờ thì tiêm mũi 5 trong 1?", True,
     "Mũi 5 trong 1 (DPT-VGB-Hib) mũi 1 tiêm lúc trẻ 2 tháng tuổi, cùng với uống vắc xin bại liệt. Trạm tiêm vào "
     "ngày tiêm chủng của tháng; mang theo sổ tiêm chủng của cháu.",
     "Khi nào tiêm mũi 5 trong 1?", "Trẻ 2 tháng tuổi thì bao giờ tiêm vắc xin 5 trong 1?"),
    ("Huyết áp của bố tôi", "Bố tôi 70 tuổi đo huyết áp 165/95, đang uống thuốc đều. Có cần đổi thuốc không?", False,
     "Bác nên đến trạm để đo lại huyết áp hai lần và xem đơn thuốc đang dùng; trạm sẽ điều chỉnh hoặc chuyển khám "
     "chuyên khoa nếu cần. Không tự ý đổi hay ngừng thuốc.", "", ""),
    ("Đau lưng khi làm ruộng", "Tôi 45 tuổi, đau lưng dưới mỗi khi cấy lúa, đã hai tuần chưa đỡ.", True, "", "", ""),
]


def populate(commune, citizen, nurse, *, seed: int) -> dict | None:
    with tenant_context(commune), transaction.atomic():
        if Question.objects.exists():
            return None
        rng = random.Random(seed)
        now = timezone.now()
        made = 0
        for index, (title, body, public, answer, public_title, public_body) in enumerate(QUESTIONS):
            asked_at = now - datetime.timedelta(days=(len(QUESTIONS) - index) * 9, hours=rng.randrange(1, 8))
            question = Question(asker=citizen, title=title, body=body, wants_public=public)
            if answer:
                question.answer = answer
                question.answered_by = nurse
                question.answered_by_name = getattr(nurse, "full_name", "") or "Trạm Y tế"
                question.answered_at = asked_at + datetime.timedelta(days=1)
                question.state = Question.State.PUBLISHED if public_title else Question.State.ANSWERED
                if public_title:
                    from core.text import fold

                    question.public_title, question.public_body = public_title, public_body
                    question.search_text = fold(f"{public_title} {public_body} {answer}")
            question.save()
            Question.objects.filter(pk=question.pk).update(created_at=asked_at)
            made += 1
        today = timezone.localdate()
        older = list(Resident.objects.filter(birth_date__lte=today - datetime.timedelta(days=365 * 75),
                                             death__isnull=True).order_by("pk")[:40])
        deaths = []
        for resident in rng.sample(older, min(len(older), 4)):
            deaths.append(Death(resident=resident, died_on=today - datetime.timedelta(days=rng.randrange(5, 360)),
                                cause_icd10=rng.choice(["I64", "J44.9", ""]), place="Tại nhà", staff=nurse))
        Death.objects.bulk_create(deaths)
        return {"questions": made, "deaths": len(deaths)}


def seed(context) -> None:
    from communes.models import Role

    for spec, commune in context.communes:
        nurse = context.officials(commune).get(Role.HEALTH_STAFF.value)
        made = populate(commune, context.citizen, nurse, seed=int(spec.code) + 37)
        if made:
            context.out(f"{commune}: {made['questions']} questions to the doctor, {made['deaths']} deaths")
