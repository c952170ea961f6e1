"""Numbers and symbols: formats, sequences (shared, per type, secret, copies), the yearly
restart, database constraints and concurrent issuing."""
import datetime
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_context

from documents import numbering, services
from documents.models import NumberingPolicy, NumberSequence, OutgoingDocument

from .conftest import TULE_SCHEMA


def test_number_formats(doc_types):
    qd, cv = doc_types["quyet-dinh"], doc_types["cong-van"]
    assert numbering.format_number(5) == "05"
    assert numbering.format_number(35) == "35"
    assert numbering.format_number(120) == "120"
    assert numbering.number_symbol(5, qd, "UBND") == "05/QĐ-UBND"
    assert numbering.number_line("05/QĐ-UBND") == "Số: 05/QĐ-UBND"
    assert numbering.number_symbol(35, cv, "UBND", "VP") == "35/UBND-VP"
    assert numbering.subject_line("tổ chức Tết Trồng cây") == "V/v tổ chức Tết Trồng cây"
    assert numbering.number_symbol(7, doc_types["quy-dinh"], "UBND") == "07/QyĐ-UBND"
    assert numbering.number_symbol(1, doc_types["sao-y"], "UBND") == "01/SY-UBND"
    assert " " not in numbering.number_symbol(9, doc_types["to-trinh"], "UBND")


def test_date_line_has_leading_zeros_for_small_days_and_months_1_and_2():
    assert numbering.date_line("Tú Lệ", datetime.date(2026, 2, 5)) == "Tú Lệ, ngày 05 tháng 02 năm 2026"
    assert numbering.date_line("Tú Lệ", datetime.date(2026, 3, 15)) == "Tú Lệ, ngày 15 tháng 3 năm 2026"
    assert numbering.date_line("Tú Lệ", datetime.date(2026, 12, 1)) == "Tú Lệ, ngày 01 tháng 12 năm 2026"


def test_catalogue_is_data_with_every_type(doc_types):
    expected = {
        "Nghị quyết": "NQ", "Quyết định": "QĐ", "Chỉ thị": "CT", "Quy chế": "QC", "Quy định": "QyĐ",
        "Thông cáo": "TC", "Thông báo": "TB", "Hướng dẫn": "HD", "Chương trình": "CTr", "Kế hoạch": "KH",
        "Phương án": "PA", "Đề án": "ĐA", "Dự án": "DA", "Báo cáo": "BC", "Biên bản": "BB", "Tờ trình": "TTr",
        "Hợp đồng": "HĐ", "Công điện": "CĐ", "Bản ghi nhớ": "BGN", "Bản thỏa thuận": "BTT", "Giấy ủy quyền": "GUQ",
        "Giấy mời": "GM", "Giấy giới thiệu": "GGT", "Giấy nghỉ phép": "GNP", "Phiếu gửi": "PG", "Phiếu chuyển": "PC",
        "Phiếu báo": "PB", "Bản sao y": "SY", "Bản trích sao": "TrS", "Bản sao lục": "SL", "Công văn": "",
    }
    assert {t.name: t.abbreviation for t in doc_types.values()} == expected
    assert doc_types["cong-van"].kind == "official_letter"
    assert {t.code for t in doc_types.values() if t.kind == "copy"} == {"sao-y", "trich-sao", "sao-luc"}
    assert all(t.version == "30/2020/NĐ-CP" and t.valid_from == datetime.date(2020, 3, 5) for t in doc_types.values())


def _number(doc, day):
    with transaction.atomic():
        services.assign_number(doc, on=day)
        doc.state = OutgoingDocument.State.NUMBERED
        doc.save()
    return doc.number_symbol


def test_shared_sequence_and_yearly_restart(draft_factory):
    last_day, new_year = datetime.date(2025, 12, 31), datetime.date(2026, 1, 1)
    assert _number(draft_factory("quyet-dinh"), last_day) == "01/QĐ-UBND"
    assert _number(draft_factory("ke-hoach"), last_day) == "02/KH-UBND"
    assert _number(draft_factory("cong-van", drafting_unit="VP"), last_day) == "03/UBND-VP"
    # 1 January: every sequence starts again from 01.
    assert _number(draft_factory("to-trinh"), new_year) == "01/TTr-UBND"
    assert _number(draft_factory("cong-van"), new_year) == "02/UBND-VP"  # default drafting unit
    # Copies and secret documents have their own sequences.
    assert _number(draft_factory("sao-y"), new_year) == "01/SY-UBND"
    assert _number(draft_factory("quyet-dinh", body="", confidentiality="confidential"), new_year) == "01/QĐ-UBND-M"
    assert _number(draft_factory("quyet-dinh"), new_year) == "03/QĐ-UBND"
    rows = dict(NumberSequence.objects.filter(year=2026).values_list("key", "last_number"))
    assert rows == {"shared": 3, "copy": 1, "secret": 1}
    assert NumberSequence.objects.get(year=2025, key="shared").last_number == 3


def test_year_is_the_local_date_in_vietnam(draft_factory, monkeypatch):
    """31 December 2025, 18:30 UTC is already 1 January 2026 in Hà Nội."""
    from django.utils import timezone

    moment = datetime.datetime(2025, 12, 31, 18, 30, tzinfo=datetime.timezone.utc)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    assert numbering.local_today() == datetime.date(2026, 1, 1)
    doc = draft_factory()
    with transaction.atomic():
        services.assign_number(doc)
    assert doc.number_year == 2026 and doc.issued_on == datetime.date(2026, 1, 1)


def test_per_type_sequences(draft_factory):
    policy = numbering.get_policy()
    policy.mode = NumberingPolicy.Mode.PER_TYPE
    policy.save()
    day = datetime.date(2026, 3, 2)
    assert _number(draft_factory("quyet-dinh"), day) == "01/QĐ-UBND"
    assert _number(draft_factory("quyet-dinh"), day) == "02/QĐ-UBND"
    assert _number(draft_factory("ke-hoach"), day) == "01/KH-UBND"
    assert _number(draft_factory("cong-van", drafting_unit="TP"), day) == "01/UBND-TP"
    assert _number(draft_factory("quyet-dinh"), day) == "03/QĐ-UBND"
    keys = set(NumberSequence.objects.filter(year=2026).values_list("key", flat=True))
    assert keys == {"type:quyet-dinh", "type:ke-hoach", "type:cong-van"}


def test_agency_symbol_comes_from_the_policy(draft_factory):
    policy = numbering.get_policy()
    policy.agency_symbol = "HĐND"
    policy.save()
    assert _number(draft_factory("nghi-quyet"), datetime.date(2026, 5, 4)) == "01/NQ-HĐND"


def test_database_refuses_a_duplicate_number(draft_factory):
    day = datetime.date(2026, 4, 1)
    first = draft_factory()
    _number(first, day)
    second = draft_factory()
    with pytest.raises(IntegrityError), transaction.atomic():
        OutgoingDocument.objects.filter(pk=second.pk).update(
            number=first.number, number_year=2026, sequence_key="shared", number_symbol="99/QĐ-UBND",
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # same symbol under another sequence
        OutgoingDocument.objects.filter(pk=second.pk).update(
            number=1, number_year=2026, sequence_key="type:quyet-dinh", number_symbol=first.number_symbol,
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # a number without its symbol
        OutgoingDocument.objects.filter(pk=second.pk).update(number=2, number_year=2026)


def test_a_secret_document_never_repeats_an_ordinary_number_and_symbol(draft_factory):
    """Secret documents draw from their own sequence, yet a number and symbol is unique in the
    year across the ordinary register and the register of secret documents: the secret one
    carries the policy's mark as the last group of its symbol."""
    day = datetime.date(2026, 6, 1)
    ordinary = [_number(draft_factory("thong-bao"), day) for _ in range(2)]
    assert ordinary == ["01/TB-UBND", "02/TB-UBND"]
    secret = [_number(draft_factory("thong-bao", body="", confidentiality=level), day)
              for level in ("confidential", "secret")]
    assert secret == ["01/TB-UBND-M", "02/TB-UBND-M"]
    assert not set(ordinary) & set(secret)
    rows = dict(NumberSequence.objects.filter(year=2026).values_list("key", "last_number"))
    assert rows == {"shared": 2, "secret": 2}

    policy = numbering.get_policy()
    policy.secret_mark = "MAT"
    policy.save()
    assert _number(draft_factory("bao-cao", body="", confidentiality="top_secret"), day) == "03/BC-UBND-MAT"


def test_database_refuses_a_secret_symbol_that_an_ordinary_document_has(draft_factory):
    day = datetime.date(2026, 6, 2)
    ordinary = draft_factory("thong-bao")
    _number(ordinary, day)
    secret = draft_factory("thong-bao", body="", confidentiality="secret")
    _number(secret, day)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutgoingDocument.objects.filter(pk=secret.pk).update(number_symbol=ordinary.number_symbol)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutgoingDocument.objects.filter(pk=ordinary.pk).update(number_symbol=secret.number_symbol)
    # Another year may reuse it.
    OutgoingDocument.objects.filter(pk=secret.pk).update(number_year=2025, number_symbol=ordinary.number_symbol)


def test_a_number_taken_in_the_other_register_is_refused_with_a_message_not_a_crash(draft_factory):
    """A mark emptied behind the settings' back would repeat an ordinary symbol: the issuing
    is refused with a message and the secret sequence keeps its number."""
    from django.core.exceptions import ValidationError

    day = datetime.date(2026, 6, 4)
    _number(draft_factory("thong-bao"), day)
    NumberingPolicy.objects.filter(singleton=1).update(secret_mark="")
    with pytest.raises(ValidationError) as refused:
        _number(draft_factory("thong-bao", body="", confidentiality="secret"), day)
    assert refused.value.code == "number_taken" and "01/TB-UBND" in refused.value.messages[0]
    assert not NumberSequence.objects.filter(year=2026, key="secret").exclude(last_number=0).exists()


def test_the_secret_mark_is_a_symbol_group(draft_factory):
    from django.core.exceptions import ValidationError

    policy = numbering.get_policy()
    for bad in ("", "M-1", "M/1", "M M"):
        policy.secret_mark = bad
        with pytest.raises(ValidationError) as refused:
            policy.full_clean()
        assert "secret_mark" in refused.value.message_dict


# --- concurrent issuing ------------------------------------------------------------------------

@pytest.mark.slow
def test_twenty_documents_numbered_concurrently_get_01_to_20(committed):
    """20 threads, each with its own database connection, issue at the same moment."""
    from communes.models import Commune, Membership, Role, User
    from documents.models import DocumentType

    year = 2091
    committed["years"].append(year)
    commune = Commune.objects.get(schema_name=TULE_SCHEMA)
    clerk = User.objects.create_user("concurrent_clerk", password="x")
    Membership.objects.create(user=clerk, commune=commune, role=Role.CLERK)
    with schema_context(TULE_SCHEMA):
        doc_type = DocumentType.objects.get(code="quyet-dinh")
        docs = [OutgoingDocument.objects.create(doc_type=doc_type, subject=f"Văn bản {i}", state="signed",
                                                leader_signed_pdf="x.pdf") for i in range(20)]
    committed["documents"] += [d.pk for d in docs]
    barrier = threading.Barrier(len(docs))
    errors: list[BaseException] = []
    backends: set[int] = set()

    def issue(pk):
        try:
            with schema_context(TULE_SCHEMA):
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_backend_pid()")
                        backends.add(cursor.fetchone()[0])
                    doc = OutgoingDocument.objects.select_for_update().get(pk=pk)
                    barrier.wait(timeout=30)
                    services.assign_number(doc, on=datetime.date(year, 6, 1))
                    doc.state = OutgoingDocument.State.NUMBERED
                    doc.save()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(d.pk,)) for d in docs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(backends) == 20  # twenty separate connections
    with schema_context(TULE_SCHEMA):
        numbers = sorted(OutgoingDocument.objects.filter(pk__in=[d.pk for d in docs]).values_list("number", flat=True))
        symbols = set(OutgoingDocument.objects.filter(pk__in=[d.pk for d in docs]).values_list("number_symbol", flat=True))
        assert numbers == list(range(1, 21))
        assert symbols == {f"{n:02d}/QĐ-UBND" for n in range(1, 21)}
        assert NumberSequence.objects.get(year=year, key="shared").last_number == 20


def test_the_migration_marks_secret_documents_numbered_before_the_mark(draft_factory):
    """Registers written before the mark existed may hold a secret '02/TB-UBND' beside an
    ordinary '02/TB-UBND': the migration gives the secret ones the mark (keeping the former
    symbol in the note) before the database starts refusing duplicates."""
    from django.db.migrations.executor import MigrationExecutor

    day = datetime.date(2026, 6, 3)
    ordinary = [draft_factory("thong-bao") for _ in range(2)]
    for doc in ordinary:
        _number(doc, day)
    secrets = [draft_factory("thong-bao", body="", confidentiality="secret", note=note) for note in ("", "Bản số 1")]
    for doc in secrets:
        _number(doc, day)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate([("documents", "0002_document_types")])
    for secret, former in zip(secrets, ("01/TB-UBND", "02/TB-UBND")):
        OutgoingDocument.objects.filter(pk=secret.pk).update(
            number_symbol=former, search_text=f"{former.lower()} thong bao")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("documents"))
    rows = {doc.pk: doc for doc in OutgoingDocument.objects.filter(pk__in=[d.pk for d in ordinary + secrets])}
    assert [rows[d.pk].number_symbol for d in ordinary] == ["01/TB-UBND", "02/TB-UBND"]
    assert [rows[d.pk].number_symbol for d in secrets] == ["01/TB-UBND-M", "02/TB-UBND-M"]
    assert rows[secrets[0].pk].note == "Số, ký hiệu trước khi thêm dấu văn bản mật: 01/TB-UBND"
    assert rows[secrets[1].pk].note == "Bản số 1; Số, ký hiệu trước khi thêm dấu văn bản mật: 02/TB-UBND"
    assert rows[secrets[1].pk].search_text.startswith("02/tb-ubnd-m ")
    with pytest.raises(IntegrityError), transaction.atomic():
        OutgoingDocument.objects.filter(pk=secrets[0].pk).update(number_symbol="01/TB-UBND")
