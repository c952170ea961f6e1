"""The schools' home (``/schools/``): what waits for the person (the app's inbox lines), the
schools they work in (the leaders: every school, as figures only), and the pages of the app.
Thin views: the role checks come from ``education.permissions``."""
from __future__ import annotations

from django.shortcuts import render

from education import permissions
from education.models import School

page_requires = permissions.page_requires


@page_requires("module.open")
def home(request):
    schools = permissions.schools_for(request.user).order_by("name")
    leader = bool(permissions.user_roles(request.user) & permissions.LEADERS)
    return render(request, "education/home.html", {
        "schools": schools,
        "leader": leader,
        "all_schools": School.objects.filter(active=True).order_by("name") if leader else School.objects.none(),
    })
