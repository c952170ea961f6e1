"""The outbox's state as a test that observes it needs it: empty."""
from __future__ import annotations

from django_tenants.utils import schema_context


def empty_outbox() -> None:
    """Remove every commune's entries and everything published, inside the test's transaction
    (rolled back with it), so that rows another test committed and left behind are not counted."""
    from communes.models import Commune
    from ocop_national.models import CatalogueProduct
    from outbox.models import Entry
    from published.models import MonthlyFacts, Pending, Publication

    for name in Commune.objects.exclude(schema_name="public").values_list("schema_name", flat=True):
        with schema_context(name):
            Entry.objects.all().delete()
    with schema_context("public"):
        for model in (Pending, Publication, MonthlyFacts, CatalogueProduct):
            model.objects.all().delete()


def clear_outbox(commune) -> None:
    """Remove the commune's entries and everything it published, committed (a test that commits
    its rows owns the test database's communes while it runs): what it leaves is nobody's."""
    from ocop_national.models import CatalogueProduct
    from outbox.models import Entry
    from published.models import MonthlyFacts, Pending, Publication

    with schema_context(commune.schema_name):
        Entry.objects.all().delete()
    with schema_context("public"):
        Pending.objects.filter(schema_name=commune.schema_name).delete()
        for model in (Publication, MonthlyFacts, CatalogueProduct):
            model.objects.filter(commune=commune).delete()
