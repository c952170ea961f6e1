"""Parsing untrusted PDFs in a separate, limited process.

A hostile file (a decompression bomb, a reference cycle, a maze of objects) must not hang or
exhaust the server. :func:`run_limited` runs one parse/verify job in a fresh child process with an
address-space limit (RLIMIT_AS), a CPU-time limit (RLIMIT_CPU) and a wall-clock deadline after
which the parent kills it. Children come from a multiprocessing *forkserver* that has imported
pyHanko once (``set_forkserver_preload``), so a job starts in milliseconds. Every failure is a
:class:`PdfRejected` with its code; the parent never hangs and never crashes.

:func:`inspect` is the admission check for an uploaded PDF: the %PDF- header, the size limit
(before any parsing), strict parsing, no encryption, the page tree (cycles, counts), every page's
content streams (and the forms they draw) decodable within the decoding limits, and sound byte
ranges for any existing signatures.
"""
from __future__ import annotations

import importlib
import io
import math
import multiprocessing
import multiprocessing.connection
import os
from multiprocessing import context as mp_context
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
import threading
import time

from .errors import PdfRejected
from .reading import check_header, check_size

DEFAULT_SECONDS = 20.0
DEFAULT_MEMORY_MB = 768
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
STARTUP_GRACE = 2.0          # seconds allowed for the child to start on top of the job's own time
MAX_PAGES = 10_000
MAX_TREE_DEPTH = 64
MAX_XOBJECT_DEPTH = 8
MIB = 1024 * 1024

#: Jobs by short name; anything else must be a dotted path "package.module.function".
FUNCTIONS = {
    "inspect": "signatures.pdf.sandbox.inspect",
    "verify": "signatures.pdf.verify.verify",
    "signature_fields": "signatures.pdf.pades.signature_fields",
    "text_field_values": "signatures.pdf.fields.text_field_values",
}
PRELOAD = [
    "signatures.pdf.sandbox", "signatures.pdf.verify", "signatures.pdf.pades", "signatures.pdf.fields",
    "pyhanko.pdf_utils.reader", "pyhanko.pdf_utils.incremental_writer", "pyhanko.sign.fields",
    "pyhanko.sign.validation", "pyhanko.sign.diff_analysis", "pyhanko.sign.signers",
    "pyhanko_certvalidator", "asn1crypto.cms", "asn1crypto.tsp",
]

_context = None
_context_lock = threading.Lock()


def _mp_context():
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _context = ctx
        return _context


class _Popen(popen_forkserver.Popen):
    """Launches a forkserver child without re-importing the parent's __main__ module.

    multiprocessing normally re-imports the main script in every child (so functions defined there
    can be found); our target lives in this module, and re-importing e.g. a web server's or a test
    runner's entry point would cost time in every job and run code the job does not need."""

    def _launch(self, process_obj):
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_name", None)
        prep_data.pop("init_main_from_path", None)
        buf = io.BytesIO()
        mp_context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            mp_context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class SandboxProcess(mp_context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


def warm_up() -> None:
    """Start the forkserver (importing pyHanko once) ahead of the first job."""
    run_limited("signatures.pdf.sandbox._noop", b"", seconds=30, memory_mb=DEFAULT_MEMORY_MB)


def _noop(_pdf):
    return None


def _resolve(func_name: str):
    path = FUNCTIONS.get(func_name, func_name)
    module_name, _, attr = path.rpartition(".")
    if not module_name:
        raise ValueError(f"unknown job {func_name!r}")
    return getattr(importlib.import_module(module_name), attr)


def _child(conn, func_name, pdf, args, kwargs, seconds, memory_mb):
    import resource

    try:
        limit = int(memory_mb) * MIB
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        cpu = max(1, math.ceil(seconds))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError) as exc:  # cannot limit: refuse to run unlimited
        conn.send(("rejected", "memory", f"cannot set limits: {exc}"))
        conn.close()
        return
    try:
        result = _resolve(func_name)(pdf, *args, **kwargs)
        message = ("ok", result)
    except PdfRejected as exc:
        message = ("rejected", exc.code, exc.detail)
    except MemoryError:
        message = ("rejected", "memory", "out of memory")
    except BaseException as exc:  # noqa: BLE001 - everything becomes a rejection code
        from .reading import map_error

        rejected = map_error(exc)
        message = ("rejected", rejected.code, rejected.detail)
    try:
        conn.send(message)
    except MemoryError:
        conn.send(("rejected", "memory", "out of memory while answering"))
    finally:
        conn.close()


def run_limited(func_name: str, pdf: bytes, *args, seconds: float = DEFAULT_SECONDS,
                memory_mb: int = DEFAULT_MEMORY_MB, max_bytes: int | None = None, **kwargs):
    """Run ``func_name(pdf, *args, **kwargs)`` in a limited child process and return its result.

    Raises PdfRejected: the job's own rejection, "timeout" (CPU or wall clock), "memory", or
    "too_complex" when the child died without an answer."""
    check_size(pdf, max_bytes)
    ctx = _mp_context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = SandboxProcess(target=_child, args=(sender, func_name, bytes(pdf), args, kwargs, seconds, memory_mb),
                          daemon=True, name=f"pdf-sandbox-{func_name}")
    try:
        process.start()
    except Exception as exc:  # noqa: BLE001 - no child process: fail closed
        receiver.close()
        sender.close()
        raise PdfRejected("too_complex", f"cannot start the sandbox: {exc}") from None
    sender.close()
    deadline = time.monotonic() + seconds + STARTUP_GRACE
    message = None
    try:
        while message is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PdfRejected("timeout", f"no answer within {seconds:g} s")
            ready = multiprocessing.connection.wait([receiver, process.sentinel], timeout=remaining)
            if receiver in ready:
                try:
                    message = receiver.recv()
                except (EOFError, OSError):
                    break  # died while answering, or without answering
            elif process.sentinel in ready:
                # exited: drain a message that may still sit in the pipe
                if receiver.poll(0):
                    try:
                        message = receiver.recv()
                    except (EOFError, OSError):
                        pass
                break
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
        exitcode = process.exitcode
        try:
            process.close()
        except ValueError:
            pass
    if message is None:
        import signal

        if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise PdfRejected("timeout", f"CPU time limit of {seconds:g} s reached")
        if exitcode in (-signal.SIGSEGV, -signal.SIGBUS, -signal.SIGABRT):
            raise PdfRejected("memory", f"the parser crashed (exit {exitcode}), probably out of memory")
        raise PdfRejected("too_complex", f"the parser stopped without an answer (exit {exitcode})")
    if message[0] == "ok":
        return message[1]
    raise PdfRejected(message[1], message[2])


def inspect_limited(pdf: bytes, *, max_bytes: int | None = DEFAULT_MAX_BYTES, seconds: float = DEFAULT_SECONDS,
                    memory_mb: int = DEFAULT_MEMORY_MB) -> dict:
    check_size(pdf, max_bytes)
    check_header(pdf)
    return run_limited("inspect", pdf, seconds=seconds, memory_mb=memory_mb, max_bytes=max_bytes)


def verify_limited(pdf: bytes, trust_roots_der: list[bytes], *, max_bytes: int | None = DEFAULT_MAX_BYTES,
                   seconds: float = DEFAULT_SECONDS, memory_mb: int = DEFAULT_MEMORY_MB,
                   allow_fetching: bool = False) -> dict:
    check_size(pdf, max_bytes)
    check_header(pdf)
    return run_limited("verify", pdf, seconds=seconds, memory_mb=memory_mb, max_bytes=max_bytes,
                       trust_roots_der=[bytes(r) for r in trust_roots_der], allow_fetching=allow_fetching)


# --- the admission check (runs inside the child) ----------------------------------------------------

def inspect_limits():
    """Decoding limits for admission: no single stream over 64 MiB, at most 256 MiB (or 50 times the
    file) decoded in total, at most 1100:1 expansion for streams over 1 MiB."""
    from pyhanko.pdf_utils.decode_limits import DecodeLimits, DocumentDecodeBudget, StreamDecodeLimits

    return DecodeLimits(
        per_stream=StreamDecodeLimits(max_ratio=1100, ratio_floor=MIB, max_output_size=64 * MIB),
        document_budget=DocumentDecodeBudget(base_allowance=256 * MIB, max_ratio=50),
    )


def _number(value, default=0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _walk_pages(root_ref):
    """Page dictionaries in order, with inherited MediaBox; cycles and runaway trees rejected."""
    from pyhanko.pdf_utils import generic

    pages = []
    seen = set()

    def walk(ref, depth, media_box):
        if depth > MAX_TREE_DEPTH:
            raise PdfRejected("too_complex", "page tree too deep")
        if not isinstance(ref, generic.IndirectObject):
            raise PdfRejected("malformed", "page tree node is not an indirect object")
        key = (ref.idnum, ref.generation)
        if key in seen:
            raise PdfRejected("malformed", "cycle in the page tree")
        seen.add(key)
        node = ref.get_object()
        if not isinstance(node, generic.DictionaryObject):
            raise PdfRejected("malformed", "page tree node is not a dictionary")
        media_box = node.get("/MediaBox", media_box)
        node_type = node.get("/Type")
        if node_type == "/Pages" or (node_type is None and "/Kids" in node):
            kids = node.get("/Kids")
            if not isinstance(kids, generic.ArrayObject):
                raise PdfRejected("malformed", "page tree node without /Kids")
            for kid in kids:
                walk(kid, depth + 1, media_box)
        else:
            if len(pages) >= MAX_PAGES:
                raise PdfRejected("too_complex", f"more than {MAX_PAGES} pages")
            pages.append((node, media_box))

    walk(root_ref, 0, None)
    return pages


def _decode_content(obj, seen, totals):
    """Decode a content stream, and the form XObjects its resources draw (images are not decoded)."""
    from pyhanko.pdf_utils import generic

    if isinstance(obj, generic.IndirectObject):
        key = (obj.idnum, obj.generation)
        if key in seen:
            return
        seen.add(key)
        obj = obj.get_object()
    if isinstance(obj, generic.ArrayObject):
        for part in obj:
            _decode_content(part, seen, totals)
        return
    if isinstance(obj, generic.StreamObject):
        totals["bytes"] += len(obj.data)


def _decode_forms(resources, depth, seen, totals):
    from pyhanko.pdf_utils import generic

    if depth > MAX_XOBJECT_DEPTH:
        raise PdfRejected("too_complex", "forms nested too deep")
    if resources is None:
        return
    resources = resources.get_object() if isinstance(resources, generic.IndirectObject) else resources
    if not isinstance(resources, generic.DictionaryObject):
        return
    xobjects = resources.get("/XObject")
    if not isinstance(xobjects, generic.DictionaryObject):
        return
    for _name, ref in xobjects.items():
        if not isinstance(ref, generic.IndirectObject):
            continue
        key = (ref.idnum, ref.generation)
        if key in seen:
            continue
        seen.add(key)
        xobject = ref.get_object()
        if isinstance(xobject, generic.StreamObject) and xobject.get("/Subtype") == "/Form":
            totals["bytes"] += len(xobject.data)
            _decode_forms(xobject.get("/Resources"), depth + 1, seen, totals)


def inspect(pdf: bytes, *, max_bytes: int | None = None) -> dict:
    """Admission check of an uploaded PDF (see the module docstring). Raises PdfRejected."""
    from .fields import text_values_of
    from .pades import signatures_of
    from .reading import map_error, open_reader
    from .verify import check_byte_range

    check_size(pdf, max_bytes)
    check_header(pdf)
    reader = open_reader(pdf, decode_limits=inspect_limits())
    try:
        root = reader.root
        count = int(root["/Pages"].get("/Count", -1))
        pages = _walk_pages(root.raw_get("/Pages"))
        if count != len(pages):
            raise PdfRejected("malformed", f"/Count says {count} pages, the tree has {len(pages)}")
        if not pages:
            raise PdfRejected("malformed", "no pages")
        totals = {"bytes": 0}
        seen: set = set()
        sizes = []
        for page, media_box in pages:
            if "/Contents" in page:
                _decode_content(page.raw_get("/Contents"), seen, totals)
            _decode_forms(page.get("/Resources"), 0, seen, totals)
            box = media_box if media_box is not None else [0, 0, 612, 792]
            x1, y1, x2, y2 = (_number(v) for v in list(box)[:4])
            sizes.append([round(abs(x2 - x1), 2), round(abs(y2 - y1), 2)])
        signatures = signatures_of(reader) if "/AcroForm" in root else {}
        if any(signatures.values()):
            from pyhanko.sign.fields import enumerate_sig_fields

            from pyhanko.sign.validation import EmbeddedPdfSignature, SignatureCoverageLevel

            for name, sig_ref, field_ref in enumerate_sig_fields(reader, filled_status=True):
                problem = check_byte_range(pdf, sig_ref.get_object().get("/ByteRange", []))
                if problem:
                    raise PdfRejected("bad_byte_range", f"{name}: {problem}")
                coverage = EmbeddedPdfSignature(reader, field_ref, name).evaluate_signature_coverage()
                if coverage < SignatureCoverageLevel.ENTIRE_REVISION:
                    raise PdfRejected("bad_byte_range", f"{name}: covers no complete revision")
        version = reader.input_version
        text_fields = text_values_of(reader) if "/AcroForm" in root else {}
        return {
            "pages": len(pages),
            "version": f"{version[0]}.{version[1]}",
            "page_sizes": sizes,
            "content_bytes": totals["bytes"],
            "revisions": reader.xrefs.total_revisions,
            "signed": any(signatures.values()),
            "signature_fields": signatures,
            "text_fields": text_fields,
            "bytes": len(pdf),
        }
    except PdfRejected:
        raise
    except Exception as exc:  # noqa: BLE001
        raise map_error(exc) from None

