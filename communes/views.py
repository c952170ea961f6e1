import datetime as dt

from django.db.models import Count
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communes.models import AdministrativeUnit, Commune, Membership, Role, SupervisingUnit
from communes.modules import modules_for, public_layout, public_sections
from communes.permissions import roles_for, user_names
from core.text import vi_sort_key


ROLE_CHANGES_DAYS = 30


def role_changes(commune, days: int = ROLE_CHANGES_DAYS):
    """The commune's role grants of the last ``days`` days, newest first: who granted (or
    changed, removed) which role to whom, and when (simple-history's records of Membership)."""
    since = timezone.now() - dt.timedelta(days=days)
    records = list(
        Membership.history.filter(commune_id=commune.pk, history_date__gte=since)
        .select_related("history_user").order_by("-history_date", "-history_id")[:200]
    )
    names = user_names({record.user_id for record in records})
    kinds = {"+": _("granted"), "~": _("changed"), "-": _("removed")}
    return [{
        "when": record.history_date,
        "by": str(record.history_user) if record.history_user_id else _("system"),
        "kind": kinds.get(record.history_type, record.history_type),
        "role": Role(record.role).label if record.role in Role.values else record.role,
        "active": record.is_active,
        "to": names.get(record.user_id, "-"),
    } for record in records]


def public_home(request):
    """The commune's public home: the sections the apps registered (``communes.modules``), in
    the citizens' layout."""
    sections = [
        render_to_string(section["template"], section["context"], request)
        for section in public_sections(request)
    ]
    return render(request, "communes/public_home.html", {"sections": sections, "public_layout": public_layout()})


def official_home(request):
    """Officials get what waits for them (the to-do inbox) and their modules; anonymous
    visitors and citizens (no role here) the commune's public home. The chairman also sees the
    role changes of the last 30 days."""
    roles = roles_for(request.user, request.commune)
    if not roles:
        return public_home(request)
    return render(request, "communes/official_home.html", {
        "modules": modules_for(roles),
        "memberships": request.user.memberships.filter(commune=request.commune, is_active=True),
        "role_changes": role_changes(request.commune) if Role.CHAIRMAN.value in roles else None,
        "role_changes_days": ROLE_CHANGES_DAYS,
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
    from communes import search

    query = (request.GET.get("q") or "").replace("\x00", "")[:search.MAX_QUERY_LENGTH].strip()
    results, matched = search.search(query) if query else ([], 0)
    return render(request, "communes/national_home.html", {
        "rows": rows, "query": query, "results": results, "matched": matched,
        "port": "" if request.get_port() in ("80", "443") else f":{request.get_port()}",
    })


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
