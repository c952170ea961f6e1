from communes.permissions import roles_for


def commune(request):
    commune = getattr(request, "commune", None)
    user = getattr(request, "user", None)
    return {
        "commune": commune,
        "is_national": getattr(request, "is_national", False),
        "user_roles": roles_for(user, commune) if user is not None else set(),
    }
