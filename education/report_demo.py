"""The report cards' demo: in each demo commune, the first-semester result sheet of the lower-secondary
school's first class of the current year, made (as the job would make it) and waiting for the
principal's signature, so that the principal's inbox and the class's page show a finished PDF.
Idempotent: a class that already has its sheet is left alone."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.storage import save_final
from education import report_cards
from education.models import Period, ReportCardJob, SchoolClass, SchoolLevel
from jobs.models import JobState


def seed(context) -> None:
    made = 0
    for _spec, commune in context.communes:
        with tenant_context(commune):
            school_class = SchoolClass.objects.filter(
                school__level=SchoolLevel.LOWER_SECONDARY, year__current=True, grade__gte=6,
                enrolments__isnull=False).order_by("school__name", "grade", "name").distinct().first()
            if school_class is None or ReportCardJob.objects.filter(
                    school_class=school_class, kind=ReportCardJob.Kind.RESULT_SHEET, period=Period.SEM1).exists():
                continue
            data, slots = report_cards.render_sheet(school_class, Period.SEM1)
            now = timezone.now()
            with transaction.atomic():
                job = ReportCardJob.objects.create(
                    school_class=school_class, kind=ReportCardJob.Kind.RESULT_SHEET, period=Period.SEM1,
                    state=JobState.SUCCEEDED, progress_percent=100, completions=1, started_at=now, finished_at=now)
                name = save_final(report_cards.file_name(job), data)
                students = len(report_cards.enrolments_of(school_class))
                ReportCardJob.objects.filter(pk=job.pk).update(file=name, result={
                    "file": name, "pages": report_cards.page_count(data), "students": students,
                    "signature_box": slots[0] if slots else None})
            made += 1
    context.out(f"  schools: {made} result sheets made, waiting for the principals' signatures")
