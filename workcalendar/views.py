from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from workcalendar.models import CalendarYear
from workcalendar.selectors import MAX_YEAR, MIN_YEAR, year_schedule


@login_required
def calendar_index(request):
    return redirect("workcalendar:year", year=timezone.localdate().year)


@login_required
def year_view(request, year: int):
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Http404
    schedule = year_schedule(year)
    row = CalendarYear.objects.filter(year=year).first() if request.user.is_superuser else None
    return render(request, "workcalendar/year.html", {
        "schedule": schedule,
        "calendar_year": row,
        "previous_year": year - 1 if year > MIN_YEAR else None,
        "next_year": year + 1 if year < MAX_YEAR else None,
    })
