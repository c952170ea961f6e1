"""Hostile PDFs: each one ends, within its limits, in a PdfRejected code or a verdict naming the
problem; the parent process never hangs or crashes."""
from __future__ import annotations

import os
import time

import pytest

from signatures.pdf import fields, sandbox
from signatures.pdf.errors import PdfRejected

from . import hostile
from .samples import DATE_VALUE, DemoKey, demo_pki, outgoing_flow, sample_pdf

SECONDS = 5.0
MEMORY_MB = 512
MARGIN = sandbox.STARTUP_GRACE + 1.5


@pytest.fixture(scope="module", autouse=True)
def forkserver():
    sandbox.warm_up()


def rejected(func, *args, **kwargs) -> tuple[str, float]:
    start = time.monotonic()
    with pytest.raises(PdfRejected) as exc:
        func(*args, **kwargs)
    return exc.value.code, time.monotonic() - start


def inspect(pdf, **kw):
    return sandbox.inspect_limited(pdf, seconds=kw.pop("seconds", SECONDS), memory_mb=MEMORY_MB, **kw)


def verify(pdf, **kw):
    return sandbox.verify_limited(pdf, demo_pki().roots_der, seconds=kw.pop("seconds", SECONDS),
                                  memory_mb=MEMORY_MB, **kw)


# --- admission ----------------------------------------------------------------------------------------

def test_a_sound_pdf_is_admitted():
    final = outgoing_flow().final
    start = time.monotonic()
    facts = inspect(final)
    assert time.monotonic() - start < 2
    assert facts["pages"] == 2 and facts["signed"] and facts["signature_fields"] == {"leader": True, "agency": True}
    assert facts["page_sizes"][0] == [595.28, 841.89] and facts["version"] == "1.7"
    assert facts["text_fields"][fields.DATE_FIELD] == DATE_VALUE and facts["revisions"] == 5


@pytest.mark.parametrize("make, code", [
    (hostile.not_a_pdf, "not_pdf"),
    (lambda: hostile.encrypted(sample_pdf(1)), "encrypted"),
    (lambda: hostile.broken_xref(sample_pdf(1)), "malformed"),
    (hostile.page_tree_cycle, "malformed"),
    (hostile.self_referencing_length, "malformed"),
])
def test_broken_files_are_rejected_with_a_code(make, code):
    got, elapsed = rejected(inspect, make())
    assert got == code and elapsed < SECONDS + MARGIN
    start = time.monotonic()
    try:   # verification reads only what signatures need: it rejects the file or reports on it, in time
        report = verify(make())
        assert report["problems"] == ["no_signatures"]
    except PdfRejected as exc:
        assert exc.code == code
    assert time.monotonic() - start < SECONDS + MARGIN


def test_size_is_checked_before_any_parsing():
    limit = 64 * 1024
    got, elapsed = rejected(sandbox.inspect_limited, hostile.oversized(limit), max_bytes=limit)
    assert got == "too_large" and elapsed < 0.1
    got, _ = rejected(sandbox.inspect, hostile.oversized(limit), max_bytes=limit)
    assert got == "too_large"
    got, _ = rejected(sandbox.verify_limited, hostile.oversized(limit), [], max_bytes=limit)
    assert got == "too_large"


def test_decompression_bomb_is_stopped_by_the_decoding_limits():
    bomb = hostile.decompression_bomb(gib=4)
    assert len(bomb) < 6 * 1024 * 1024              # 4 GiB of zeros in a few MB
    got, elapsed = rejected(inspect, bomb)
    assert got == "too_complex" and elapsed < SECONDS + MARGIN
    start = time.monotonic()                         # verification never inflates page content
    assert verify(bomb)["problems"] == ["no_signatures"]
    assert time.monotonic() - start < SECONDS + MARGIN


# --- the sandbox itself -------------------------------------------------------------------------------

def test_each_job_runs_in_a_fresh_limited_child_with_pyhanko_preloaded():
    first = sandbox.run_limited("tests.signatures.hostile.child_facts", b"", seconds=3, memory_mb=400)
    second = sandbox.run_limited("tests.signatures.hostile.child_facts", b"", seconds=3, memory_mb=400)
    assert first["pid"] != second["pid"] != os.getpid()
    assert first["as"] == [400 * 1024 * 1024] * 2 or tuple(first["as"]) == (400 * 1024 * 1024,) * 2
    assert tuple(first["cpu"]) == (3, 4)
    assert first["pyhanko_preloaded"] and not first["django"] and not first["pytest"]


@pytest.mark.parametrize("job, code, seconds", [
    ("spin", "timeout", 2.0),           # RLIMIT_CPU
    ("sleep_forever", "timeout", 1.0),  # wall clock: killed by the parent
    ("hog_memory", "memory", 5.0),      # RLIMIT_AS
    ("crash", "memory", 5.0),           # killed by a signal without answering
    ("exit_silently", "too_complex", 5.0),
])
def test_misbehaving_jobs_end_in_a_rejection(job, code, seconds):
    got, elapsed = rejected(sandbox.run_limited, f"tests.signatures.hostile.{job}", b"%PDF-1.7",
                            seconds=seconds, memory_mb=MEMORY_MB)
    assert got == code
    assert elapsed < seconds + MARGIN
    assert inspect(sample_pdf(1))["pages"] == 1     # and the next job runs normally


# --- signed files ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["short", "overlap", "skip", "beyond"])
def test_wrong_byte_range_is_named(kind):
    bad = hostile.wrong_byte_range(outgoing_flow().final, kind)
    report = verify(bad)
    agency = report["signatures"][-1]
    assert not agency["intact"]
    assert "bad_byte_range" in agency["problems"] and "tampered" in agency["problems"]
    got, _ = rejected(inspect, bad)
    assert got == "bad_byte_range"


@pytest.mark.parametrize("kind", ["skip", "short"])
def test_a_valid_signature_over_an_unsound_range_is_still_named(kind):
    crafted = hostile.valid_signature_over_bad_range(sample_pdf(1), DemoKey(demo_pki().agency), kind)
    sig = verify(crafted)["signatures"][0]
    assert "bad_byte_range" in sig["problems"]
    assert not sig["changes_permitted"] or "tampered" in sig["problems"]
    if kind == "short":                              # the signer really signed that range
        assert sig["intact"] and sig["valid"] and sig["modification_level"] == "other"
    got, _ = rejected(inspect, crafted)
    assert got == "bad_byte_range"


@pytest.mark.parametrize("attack", [hostile.shadow_replace_contents, hostile.shadow_overlay_xobject,
                                    hostile.stamped_number])
def test_changing_what_is_displayed_after_the_signature_is_flagged(attack):
    attacked = attack(outgoing_flow().leader)
    report = verify(attacked)
    leader = report["signatures"][0]
    assert leader["intact"] and leader["valid"] and leader["trusted"]       # the bytes it signed are intact …
    assert leader["modification_level"] == "other"                          # … but what is shown changed
    assert not leader["changes_permitted"] and "changes_not_permitted" in report["problems"]
    # the proper way to add the number is form filling, which stays permitted
    proper = verify(outgoing_flow().filled)["signatures"][0]
    assert proper["modification_level"] == "form_filling" and proper["changes_permitted"]


def test_tampered_copy_is_not_intact():
    report = verify(hostile.tampered(outgoing_flow().final))
    for sig in report["signatures"]:
        assert not sig["intact"] and not sig["trusted"] and "tampered" in sig["problems"]
    assert "tampered" in report["problems"]
