"""The demo documents: every step present, some overdue, idempotent."""
from django_tenants.utils import tenant_context

from communes.models import Role
from documents import demo, selectors
from documents.models import IncomingDocument, OutgoingDocument


def test_populate_is_idempotent_and_covers_the_steps(tule, people):
    officials = {Role.CLERK: people["clerk"], Role.CHAIRMAN: people["chairman"],
                 Role.VICE_CHAIRMAN: people["vice_chairman"], Role.SPECIALIST: people["specialist"]}
    made = demo.populate(tule, officials)
    assert made["incoming"] == 7 and made["outgoing"] == 5 and len(made["approved"]) == 2
    assert demo.populate(tule, officials) == {}
    with tenant_context(tule):
        states = set(IncomingDocument.objects.values_list("state", flat=True))
        assert states == {"registered", "presented", "assigned", "in_progress", "completed"}
        assert selectors.overdue().count() == 2
        approved = OutgoingDocument.objects.filter(pk__in=made["approved"])
        assert all(doc.state == "approved" and doc.draft_pdf for doc in approved)
        secret = OutgoingDocument.objects.get(confidentiality="confidential")
        assert secret.number_symbol.endswith("/BC-UBND-M") and secret.state == "issued" and not secret.body
    assert demo.populate(tule, {"clerk": people["clerk"]}) == {}
