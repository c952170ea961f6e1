"""Officials' pages of the one-stop desk."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from onestop import permissions


@login_required
def home(request):
    permissions.require(request.user, "module.open")
    return render(request, "onestop/home.html", {})
