"""The demo's enrolment applications: in each demo commune, seven applications of the current
school year to its primary and lower-secondary schools, in every state (sent, being checked,
papers asked for, admitted, not admitted), for children of the registry of the grade's birth year
who are not students yet, or for children the registry does not know (outside the catchment: the
school checks them); one of Tú Lệ's is the demo citizen's (phone 0912345678), still waiting.
Each has its birth certificate (a one-page PDF). Idempotent: a commune with applications is left
as it is."""
from __future__ import annotations

import datetime
import uuid

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core.phones import normalize_mobile
from education import applications, sequences
from education.models import Application, ApplicationDocument, School, SchoolLevel, SchoolYear, Student
from population.models import Resident

S = Application.State
PLAN = [  # (grade, state, from the registry)
    (1, S.SUBMITTED, True), (1, S.CHECKING, True), (1, S.NEEDS_PAPERS, False), (1, S.ACCEPTED, True),
    (6, S.SUBMITTED, True), (6, S.REFUSED, False), (6, S.CHECKING, True),
]
UNKNOWN = {1: ["Lò Thị Ngọc Ánh", "Hà Minh Khang"], 6: ["Vì Văn Trường", "Cầm Thị Yến"]}
PARENTS = ["Lò Văn Hùng", "Hà Thị Hằng", "Lường Văn Dũng", "Cầm Thị Hương", "Vì Văn Quang", "Đinh Thị Nga",
           "Bạc Văn Tuấn"]
NOTES = {S.NEEDS_PAPERS: "Đề nghị bổ sung giấy xác nhận cư trú của hộ gia đình.",
         S.REFUSED: "Học sinh ngoài địa bàn tuyển sinh, trường đã đủ chỉ tiêu.",
         S.ACCEPTED: "Mời phụ huynh đưa học sinh đến trường ngày 01/9 để nhập học."}
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def seed_commune(commune, citizen=None, *, with_citizen=False) -> int:
    from core.storage import save_final

    with tenant_context(commune):
        if Application.objects.exists():
            return 0
        year = SchoolYear.objects.filter(current=True).first()
        schools = {s.level: s for s in School.objects.filter(active=True).order_by("pk")}
        if year is None or not schools:
            return 0
        grade_school = {1: schools.get(SchoolLevel.PRIMARY), 6: schools.get(SchoolLevel.LOWER_SECONDARY)}
        students = set(Student.objects.values_list("resident_id", flat=True))
        pool = {}
        for grade in (1, 6):
            born = applications.expected_birth_year(grade, year)
            pool[grade] = [r for r in Resident.objects.filter(birth_date__year=born).select_related("household__village")
                           .order_by("search_name", "pk")[:200] if r.pk not in students]
        now = timezone.now()
        rows, papers = [], []
        with transaction.atomic():
            for index, (grade, state, registered) in enumerate(PLAN):
                school = grade_school[grade]
                if school is None:
                    continue
                catchment = set(school.catchment_villages.values_list("pk", flat=True))
                child = pool[grade].pop(0) if registered and pool[grade] else None
                name = child.full_name if child else UNKNOWN[grade][index % 2]
                birth = child.birth_date if child else datetime.date(applications.expected_birth_year(grade, year),
                                                                     3 + index, 10 + index)
                mine = with_citizen and citizen is not None and index == 0
                phone = (normalize_mobile(citizen.phone or citizen.get_username()) if mine else
                         (child.household.phone if child and child.household.phone else f"09880{commune.pk % 100:02d}{index:03d}"))
                household = child.household if child else None
                submitted = now - datetime.timedelta(days=2 + index * 3)
                code = applications.reference(year, sequences.next_number(f"education.applications.{year.pk}"))
                rows.append(Application(
                    code=code, school=school, year=year, grade=grade, child_name=name, child_birth_date=birth,
                    child_sex=child.sex if child else ("female" if index % 2 == 0 else "male"), resident=child,
                    household=household, village=household.village if household else None,
                    in_catchment=bool(household and household.village_id in catchment),
                    previous_school=f"Trường Tiểu học {commune.name}" if grade == 6 else "",
                    applicant=citizen if mine else None,
                    applicant_name=(citizen.full_name if mine else PARENTS[index]), applicant_phone=phone or "0988000000",
                    submission_key=f"demo-{uuid.uuid4().hex}"))
                papers.append((submitted, state))
            # Written as sent, then moved to their states: the history shows both steps. submitted_at
            # is set on insert (auto_now_add): the dates are spread afterwards.
            made = bulk_create_with_history(rows, Application)
            made = list(Application.objects.filter(submission_key__in=[a.submission_key for a in rows]).order_by("pk"))
            for application, (submitted, state) in zip(made, papers):
                application.submitted_at = submitted
                application.state = state
                application.decision_note = NOTES.get(state, "")
                application.decided_at = None if state == S.SUBMITTED else submitted + datetime.timedelta(days=1)
            bulk_update_with_history(made, Application, ["submitted_at", "state", "decision_note", "decided_at"])
            documents = []
            for application in made:
                stored = save_final(f"education/applications/{application.code}/giay-khai-sinh.pdf", PDF)
                documents.append(ApplicationDocument(application=application, kind=applications.BIRTH_CERTIFICATE,
                                                     file=stored, name="giay-khai-sinh.pdf", size=len(PDF)))
            ApplicationDocument.objects.bulk_create(documents)
            for application in made:  # sent with the application
                ApplicationDocument.objects.filter(application=application).update(uploaded_at=application.submitted_at)
        return len(made)


def seed(context) -> None:
    for spec, commune in context.communes:
        made = seed_commune(commune, getattr(context, "citizen", None), with_citizen=spec.slug == "tule")
        if made and getattr(context, "out", None):
            context.out(f"  {commune}: {made} enrolment applications")
