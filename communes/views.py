from django.db.models import Count
from django.http import Http404
from django.shortcuts import render

from communes.models import AdministrativeUnit, Commune, SupervisingUnit
from communes.modules import modules_for
from communes.permissions import roles_for
from core.text import vi_sort_key


def official_home(request):
    """Officials get their modules; anonymous visitors and citizens (no role here) the commune's
    public home (procedures, status lookup)."""
    roles = roles_for(request.user, request.commune)
    if not roles:
        from onestop.public_views import public_home

        return public_home(request)
    return render(request, "communes/official_home.html", {
        "modules": modules_for(roles),
        "memberships": request.user.memberships.filter(commune=request.commune, is_active=True),
    })


def national_home(request):
    provinces = sorted(
        SupervisingUnit.objects.filter(kind=SupervisingUnit.Kind.PROVINCE).annotate(portal_count=Count("communes")),
        key=lambda unit: vi_sort_key(unit.name),
    )
    official_counts = dict(
        AdministrativeUnit.objects.filter(level="commune").values_list("province_code").annotate(n=Count("id"))
    )
    rows = [(p, official_counts.get(p.code, 0)) for p in provinces]
    return render(request, "communes/national_home.html", {"rows": rows})


def province_detail(request, code):
    province = SupervisingUnit.objects.filter(code=code, kind=SupervisingUnit.Kind.PROVINCE).first()
    if province is None:
        raise Http404
    communes = sorted(
        Commune.objects.filter(supervising_unit_id__in=province.descendant_ids()).prefetch_related("domains"),
        key=lambda commune: vi_sort_key(commune.name),
    )
    official = sorted(
        AdministrativeUnit.objects.filter(level="commune", province_code=code), key=lambda unit: vi_sort_key(unit.name),
    )
    portal_codes = {c.code for c in communes}
    return render(request, "communes/province_detail.html", {
        "province": province, "communes": communes, "official": official, "portal_codes": portal_codes,
    })
