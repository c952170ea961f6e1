"""Agency identifiers are unique in an installation (they prefix dossier codes and name the
commune in document exchange and bank notifications).

Communes that share an identifier are resolved deterministically before the constraint: the
commune with the smallest official code keeps it, every other one gets the identifier derived
from its own official code (``000.00.X<code>``, see ``communes.services.derived_agency_code``).
Dossier codes already issued keep their text: they are printed on receipts the citizens hold.
"""
from django.db import migrations, models


def _derived(code: str) -> str:
    return f"000.00.X{code}"


def resolve_duplicates(apps, schema_editor):
    Commune = apps.get_model("communes", "Commune")
    taken = set(Commune.objects.exclude(agency_code="").values_list("agency_code", flat=True))
    seen: set[str] = set()
    for commune in Commune.objects.exclude(agency_code="").order_by("code", "pk"):
        if commune.agency_code not in seen:
            seen.add(commune.agency_code)
            continue
        derived = _derived(commune.code)
        if derived in taken:  # only when someone typed another commune's derived identifier
            derived = ""
        Commune.objects.filter(pk=commune.pk).update(agency_code=derived)
        if derived:
            taken.add(derived)
            seen.add(derived)


class Migration(migrations.Migration):

    dependencies = [
        ("communes", "0004_externalidentity"),
    ]

    operations = [
        migrations.RunPython(resolve_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="commune",
            constraint=models.UniqueConstraint(
                condition=models.Q(("agency_code", ""), _negated=True), fields=("agency_code",),
                name="commune_agency_code_unique",
                violation_error_message="Another commune already has this agency identifier.",
            ),
        ),
    ]
