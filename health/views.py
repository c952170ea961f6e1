"""The health station's home (``/health/``): what waits for the person (the app's inbox lines),
then the station's figures and its pages. Thin views: the role checks come from
``health.permissions``."""
from __future__ import annotations

from django.shortcuts import render

from communes.permissions import page_guard
from health import permissions

page_requires = page_guard(permissions.require)


@page_requires("module.open")
def home(request):
    staff = permissions.can(request.user, "record.read")
    return render(request, "health/home.html", {"staff": staff})
