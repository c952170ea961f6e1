"""Benchmark: the marks of a lower-secondary school of 600 students (15 classes of 40, grades 6–9,
14 subjects each).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso python bench/education.py --seconds 12 --clients 2

Creates a scratch database (``xaso_bench_education``) with one commune (Tú Lệ), the curriculum's
subjects, a school year, one THCS with ``--classes`` classes of ``--students`` students (children
of generated households) and every cell of the year written in bulk: the regular, mid-term and
end-of-term marks of both semesters of every subject (comment levels for the comment-assessed
ones) and the conduct of both semesters.

Then, in this process, the school's year results (``education.assessment.recompute_school``:
semester and year averages and levels of every subject, learning and conduct results, the
decisions) ``--repeat`` times from nothing (the results deleted first: every row written):
median and worst time (goal: 2 s or less) and queries; and as many times again over the stored
results (unchanged rows are not rewritten).

Then gunicorn (``--workers`` sync workers, the settings of ``onestop_server``) is driven over HTTP
from ``--clients`` threads, logged in as the principal through the login and authenticator-app
pages:

* baseline: ``GET /bench/minimal/`` (a Django view answering "ok" through the whole middleware);
* grid save: ``POST /schools/classes/<id>/marks/<subject>/sem1/save/`` of one subject's whole
  semester for a class (40 students × every column: 240 cells for a subject of four regular
  marks), with the versions the previous save returned (every cell changes), answered with each
  cell's result and the recomputed averages;
* and, timed apart, a class's whole semester (40 students × 14 subjects, one POST per subject as
  the grid sends them) in sequence, ``--repeat`` times.

Prints requests per second, median and 95th-percentile latency and each load's ratio to the
baseline measured in the same rounds, and the machine it ran on; with ``--figures FILE`` the
same figures are also written to that file as Markdown.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import queue
import random
import statistics
import tempfile
import threading
import time
import uuid

import sys

# This file's name is the app's: the app's package must win over it once the portal's folder is
# on the path (_scratch puts it first), so this folder goes to the end of the path, and the
# working directory is the portal's (Celery's Django fixup puts the working directory first).
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE] + [HERE]
os.chdir(os.path.dirname(HERE))

import requests  # noqa: E402
from _scratch import drive, empty_queue, free_port, log_in, merge, scratch_database, start_gunicorn  # noqa: E402

SCRATCH = "xaso_bench_education"
HOST = "tule.bench.test"
PASSWORD = "Bench-mat-khau-2026!"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12, help="per HTTP load, over every round")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--classes", type=int, default=15)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--figures", default="", help="also write the figures to this Markdown file")
    options = parser.parse_args()
    os.environ.setdefault("XASO_BENCH_QUEUE", f"xaso-bench-education-{uuid.uuid4().hex[:8]}")
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = os.environ["XASO_BENCH_QUEUE"]
    os.environ["XASO_CACHE_PREFIX"] = f"bench-education-{os.getpid()}"
    try:
        with scratch_database(SCRATCH) as url:
            run(url, options)
    finally:
        empty_queue(os.environ["XASO_BENCH_QUEUE"])


def _score(rng) -> str:
    value = min(10.0, max(0.0, rng.gauss(7.0, 1.5)))
    return f"{value:.1f}"


def setup(options):
    from django.contrib.auth.hashers import MD5PasswordHasher
    from django.db import connection, transaction
    from django_tenants.utils import tenant_context

    from communes.models import Membership, Role, User
    from communes.services import create_commune, load_administrative_units
    from education import assessment
    from education.curriculum import ensure_subjects
    from education.models import (
        Enrolment, Evaluation, Mark, School, SchoolClass, SchoolLevel, SchoolYear, Semester, StaffMember,
        StaffPosition, Student, Subject,
    )
    from population.models import Household, Resident, Village

    load_administrative_units(with_legacy=False)
    commune, _seconds = create_commune(code="04630", name="Tú Lệ", domain=HOST, province_code="15")
    principal = User.objects.create_user("bench_principal", password="x", full_name="Hà Văn Hiệu")
    hasher = MD5PasswordHasher()
    principal.password = hasher.encode(PASSWORD, hasher.salt())
    principal.save(update_fields=["password"])
    Membership.objects.create(user=principal, commune=commune, role=Role.SCHOOL_STAFF)
    rng = random.Random(2026)
    started = time.perf_counter()
    with tenant_context(commune), transaction.atomic():
        ensure_subjects()
        village = Village.objects.create(name="Bản Lướt")
        year = SchoolYear.objects.create(name="2026-2027", starts_on=datetime.date(2026, 9, 5),
                                         ends_on=datetime.date(2027, 5, 31), current=True)
        Semester.objects.create(year=year, number=1, starts_on=datetime.date(2026, 9, 5),
                                ends_on=datetime.date(2027, 1, 16), weeks=18)
        Semester.objects.create(year=year, number=2, starts_on=datetime.date(2027, 1, 18),
                                ends_on=datetime.date(2027, 5, 31), weeks=17)
        school = School.objects.create(name="Trường THCS Tú Lệ", level=SchoolLevel.LOWER_SECONDARY, village=village)
        StaffMember.objects.create(school=school, user=principal, full_name=principal.full_name,
                                   position=StaffPosition.PRINCIPAL)
        classes = [SchoolClass.objects.create(school=school, year=year, grade=6 + n % 4, name=f"{6 + n % 4}A{n}")
                   for n in range(options.classes)]
        total = options.classes * options.students
        households = Household.objects.bulk_create([Household(code=f"B-{n:05d}", village=village)
                                                    for n in range(total)])
        residents = Resident.objects.bulk_create([
            Resident(household=h, full_name=f"Lò Văn Học {n}", search_name=f"lo van hoc {n}",
                     birth_date=datetime.date(2013, 1 + n % 12, 1 + n % 28), sex="male" if n % 2 else "female",
                     relation="child") for n, h in enumerate(households)])
        students = Student.objects.bulk_create([Student(resident=r) for r in residents])
        enrolments = Enrolment.objects.bulk_create([
            Enrolment(student=s, school_class=classes[n // options.students], year=year,
                      number=n % options.students + 1, starts_on=year.starts_on) for n, s in enumerate(students)])
        subjects = {g: list(Subject.objects.filter(grade=g)) for g in (6, 7, 8, 9)}
        marks, evaluations = [], []
        class_of = {c.pk: c for c in classes}
        for enrolment in enrolments:
            school_class = class_of[enrolment.school_class_id]
            for subject in subjects[school_class.grade]:
                for period in ("sem1", "sem2"):
                    for column in assessment.columns_for(school_class, subject, period):
                        if column == "level":
                            marks.append(Mark(enrolment=enrolment, subject=subject, period=period, column=column,
                                              level="D" if rng.random() < 0.97 else "CD"))
                        else:
                            marks.append(Mark(enrolment=enrolment, subject=subject, period=period, column=column,
                                              score=_score(rng)))
            for period in ("sem1", "sem2"):
                evaluations.append(Evaluation(enrolment=enrolment, period=period, aspect="conduct",
                                              level=rng.choice("TTTKKD")))
        Mark.objects.bulk_create(marks, batch_size=5000)
        Evaluation.objects.bulk_create(evaluations, batch_size=5000)
    print(f"{total} students in {len(classes)} classes, {len(marks)} marks, {len(evaluations)} evaluations "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    connection.close()
    return commune, principal, school, year, classes, subjects


def time_results(commune, school, year, repeat: int) -> dict:
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import tenant_context

    from education import assessment
    from education.models import StudentResult, SubjectResult

    times, again = [], []
    with tenant_context(commune):
        with CaptureQueriesContext(connection) as queries:
            written = assessment.recompute_school(school, year)
        for _n in range(repeat):
            # from nothing: every result row written
            SubjectResult.objects.all().delete()
            StudentResult.objects.all().delete()
            started = time.perf_counter()
            assessment.recompute_school(school, year)
            times.append(time.perf_counter() - started)
            # again over stored results (a lock after the grids' saves): rows unchanged are not rewritten
            started = time.perf_counter()
            assessment.recompute_school(school, year)
            again.append(time.perf_counter() - started)
        levels = dict(StudentResult.objects.filter(period="year").values("learning").annotate(n=Count("pk"))
                      .values_list("learning", "n"))
    connection.close()
    return {"count": len(times), "median": statistics.median(times), "max": max(times), "queries": len(queries),
            "written": written, "levels": levels, "again": statistics.median(again)}


def run(url: str, options) -> None:
    commune, principal, school, year, classes, subjects = setup(options)
    results = time_results(commune, school, year, options.repeat)
    line = (f"School year results of {options.classes * options.students} students in process, {results['count']} "
            f"runs: median {results['median'] * 1000:.0f} ms, worst {results['max'] * 1000:.0f} ms, "
            f"{results['queries']} queries, {results['written']} student results (year's learning levels: "
            f"{results['levels']}) (goal: 2 s or less); again over the stored results: median "
            f"{results['again'] * 1000:.0f} ms")
    print("\n" + line, flush=True)

    from django_tenants.utils import tenant_context

    from education import assessment
    from education.models import Enrolment

    grids = {}
    with tenant_context(commune):
        for school_class in classes:
            ids = list(Enrolment.objects.filter(school_class=school_class).order_by("number")
                       .values_list("pk", flat=True))
            for subject in subjects[school_class.grade]:
                table = assessment.grid(school_class, subject, "sem1")
                versions = {(row["enrolment"].pk, cell["column"]): cell["version"]
                            for row in table["rows"] for cell in row["cells"]}
                grids[(school_class.pk, subject.pk)] = {"ids": ids, "columns": table["columns"],
                                                        "versions": versions, "kind": subject.kind}
    port = free_port()
    rng = random.Random(7)
    pool: queue.Queue = queue.Queue()
    for key in grids:
        pool.put(key)
    with tempfile.TemporaryDirectory() as media:
        server = start_gunicorn(url, port, workers=options.workers, media=media, settings_module="onestop_server",
                                host=HOST)
        try:
            base = f"http://127.0.0.1:{port}"
            headers = {"Host": HOST}
            cookies, csrf = log_in(base, headers, principal, PASSWORD)
            post_headers = {**headers, "X-CSRFToken": csrf, "Referer": f"{base}/schools/",
                            "Content-Type": "application/json"}
            lock = threading.Lock()

            def save_grid(session, key):
                grid = grids[key]
                with lock:
                    cells = [{"enrolment": e, "column": c,
                              "value": ("D" if grid["kind"] == "comment" else _score(rng)),
                              "version": grid["versions"][(e, c)]} for e in grid["ids"] for c in grid["columns"]]
                response = session.post(f"{base}/schools/classes/{key[0]}/marks/{key[1]}/sem1/save/",
                                        headers=post_headers, cookies=cookies, data=json.dumps({"cells": cells}),
                                        timeout=120)
                if response.status_code == 200:
                    answer = response.json()
                    bad = [c for c in answer["cells"] if c["status"] == "error"]
                    if bad:
                        raise SystemExit(f"refused cells: {bad[:3]}")
                    with lock:
                        for cell in answer["cells"]:
                            if cell["status"] in ("saved", "conflict"):
                                grid["versions"][(cell["enrolment"], cell["column"])] = cell["version"]
                return response

            def baseline(session):
                return session.get(f"{base}/bench/minimal/", headers=headers, timeout=30)

            def grid_save(session):
                key = pool.get()
                try:
                    return save_grid(session, key)
                finally:
                    pool.put(key)

            loads = [("baseline (minimal view)", baseline), ("grid save (1 subject)", grid_save)]
            for name, make_request in loads:
                response = make_request(requests.Session())
                if response.status_code != 200:
                    raise SystemExit(f"{name}: {response.status_code} {response.text[:500]}")
                drive("warm-up", make_request, clients=options.clients, seconds=1)
            slice_seconds = options.seconds / max(1, options.rounds)
            rounds: dict[str, list[dict]] = {name: [] for name, _make in loads}
            for _round in range(max(1, options.rounds)):
                for name, make_request in loads:
                    rounds[name].append(drive(name, make_request, clients=options.clients, seconds=slice_seconds))
            figures = [merge(name, rounds[name]) for name, _make in loads]
            whole = []
            session = requests.Session()
            for n in range(options.repeat):
                school_class = classes[n % len(classes)]
                started = time.perf_counter()
                for subject in subjects[school_class.grade]:
                    response = save_grid(session, (school_class.pk, subject.pk))
                    if response.status_code != 200:
                        raise SystemExit(f"whole class: {response.status_code} {response.text[:300]}")
                whole.append(time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait(timeout=30)
    reference = figures[0]["rate"]
    table = [f"{options.clients} clients, {options.workers} gunicorn workers, {options.seconds:.0f} s per load "
             f"in {options.rounds} rounds",
             f"{'load':<26}{'requests':>9}{'per s':>9}{'median ms':>11}{'p95 ms':>9}{'vs baseline':>13}"]
    for row in figures:
        table.append(f"{row['name']:<26}{row['count']:>9}{row['rate']:>9.1f}{row['median'] * 1000:>11.1f}"
                     f"{row['p95'] * 1000:>9.1f}{row['rate'] / reference:>12.3f}×")
    cells = sum(len(grids[(classes[0].pk, s.pk)]["columns"]) for s in subjects[classes[0].grade]) * options.students
    whole_line = (f"A class's whole semester ({options.students} students × {len(subjects[classes[0].grade])} "
                  f"subjects, {cells} cells, one POST per subject in sequence), {len(whole)} times: median "
                  f"{statistics.median(whole):.2f} s, worst {max(whole):.2f} s")
    print("\n" + "\n".join(table))
    print(whole_line)
    machine = (f"{platform.node()} · {platform.platform()} · Python {platform.python_version()} · "
               f"{os.cpu_count()} CPUs · load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")
    print(machine)
    if not options.figures:
        return
    try:
        with open(options.figures, "w", encoding="utf-8") as out:
            out.write(f"# bench/education.py — {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC\n\n")
            out.write(f"Machine: {machine}\n\n")
            out.write(f"- {line}\n- {whole_line}\n\n```\n" + "\n".join(table) + "\n```\n")
        print(f"figures written to {options.figures}")
    except OSError as exc:
        print(f"figures not written: {exc}")


if __name__ == "__main__":
    main()
