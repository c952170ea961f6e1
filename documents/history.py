"""The reasons written into the history of documents, settings and signing authorities.

``services._save`` stores the English key; the pages show ``REASONS.label(key)`` in the reader's
language, so that every row, old ones included, reads in Vietnamese.
"""
from django.utils.translation import pgettext_lazy

from core.history import ChangeReasons

REASONS = ChangeReasons(
    {
        "settings": pgettext_lazy("history", "numbering settings saved"),
        "authority": pgettext_lazy("history", "signing authority saved"),
        "authority ended": pgettext_lazy("history", "signing authority ended"),
        "draft created": pgettext_lazy("history", "draft created"),
        "draft edited": pgettext_lazy("history", "draft edited"),
        "draft uploaded": pgettext_lazy("history", "draft file uploaded"),
        "submitted": pgettext_lazy("history", "submitted for approval"),
        "approved": pgettext_lazy("history", "approved"),
        "returned to the drafter": pgettext_lazy("history", "returned to the drafter"),
        "signed by the leader": pgettext_lazy("history", "signed by the leader"),
        "number and date filled in": pgettext_lazy("history", "number and date filled in"),
        "issued": pgettext_lazy("history", "issued with the commune's digital signature"),
        "dispatched": pgettext_lazy("history", "dispatched"),
        "filed": pgettext_lazy("history", "filed"),
        "withdrawn": pgettext_lazy("history", "withdrawn"),
        "registered": pgettext_lazy("history", "registered"),
        "scan attached": pgettext_lazy("history", "scan attached"),
        "registration corrected": pgettext_lazy("history", "registration corrected"),
        "returned to the sender": pgettext_lazy("history", "returned to the sender"),
        "presented": pgettext_lazy("history", "presented to the leader"),
        "assigned": pgettext_lazy("history", "assigned for handling"),
        "handling started": pgettext_lazy("history", "handling started"),
        "forwarded": pgettext_lazy("history", "forwarded"),
        "completed": pgettext_lazy("history", "handling completed"),
        "received electronically": pgettext_lazy("history", "received electronically"),
        "received from a supervising unit": pgettext_lazy("history", "received from a supervising unit"),
    },
    [
        (r"numbered (?P<number>.+)", pgettext_lazy("history", "numbered %(number)s")),
    ],
)
