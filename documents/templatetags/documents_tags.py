from django import template

register = template.Library()


@register.filter
def name_of(names: dict, user_id) -> str:
    """{{ names|name_of:doc.lead_handler_id }}: a user's name from a {id: name} map."""
    if not isinstance(names, dict) or user_id in (None, ""):
        return ""
    return names.get(user_id, "")


@register.filter
def names_of(names: dict, user_ids) -> str:
    if not isinstance(names, dict):
        return ""
    return ", ".join(names[i] for i in user_ids or [] if i in names)


@register.filter
def history_reason(record) -> str:
    """{{ h|history_reason }}: a history row's change, in the reader's language."""
    from documents.history import REASONS

    reason = getattr(record, "history_change_reason", "")
    if reason:
        return REASONS.label(reason)
    return record.get_history_type_display() if hasattr(record, "get_history_type_display") else ""
