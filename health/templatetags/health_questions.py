"""``{% latest_answers 3 as latest %}``: the newest published answers for the commune's public
home (the staff's anonymised subject only, never the asker)."""
from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def latest_answers(count: int = 3):
    from health.models import Question

    count = max(1, min(int(count), 10))
    return list(Question.objects.filter(state=Question.State.PUBLISHED).only("pk", "public_title")
                .order_by("-answered_at", "-pk")[:count])
