"""The list of children due or overdue for a vaccination in December 2026, computed by the pure
selector from (children, doses given, schedule, a date) and compared with the list worked out by
hand below; then the same from the database for the station's baby, and the inbox counts."""
from __future__ import annotations

import datetime

import pytest

from health.schedule import DEFAULT_FILE, load_schedule
from health.vaccination import Child, due_list

D = datetime.date
DECEMBER = D(2026, 12, 1)
SCHEDULE = load_schedule(DEFAULT_FILE)

# Doses given up to the measles dose, on the station's vaccination days (the 15th).
FULL_INFANCY_2025_12 = {
    ("VGB_SS", 1): D(2025, 12, 10), ("BCG", 1): D(2025, 12, 15),
    ("DPT_VGB_HIB", 1): D(2026, 2, 15), ("OPV", 1): D(2026, 2, 15),
    ("DPT_VGB_HIB", 2): D(2026, 3, 15), ("OPV", 2): D(2026, 3, 15),
    ("DPT_VGB_HIB", 3): D(2026, 4, 15), ("OPV", 3): D(2026, 4, 15),
    ("IPV", 1): D(2026, 5, 15), ("SOI", 1): D(2026, 9, 15),
}

CHILDREN = {
    # A, born 04/10/2026, had the birth dose and BCG: two months old on 04/12 → the first 5-in-1
    # and the first oral polio are due on 04/12 (minimum age 6 weeks = 15/11, met).
    "A": (D(2026, 10, 4), {("VGB_SS", 1): D(2026, 10, 4), ("BCG", 1): D(2026, 10, 15)}),
    # B, born 20/03/2026, had doses 1 and 2 of 5-in-1 and polio, dose 2 on 25/06: dose 3 is due
    # at max(4 months = 20/07, 25/06 + 1 month = 25/07) = 25/07 → overdue; IPV at 5 months =
    # 20/08 → overdue; measles at 9 months = 20/12 → due. All before the first birthday (or 2 years).
    "B": (D(2026, 3, 20), {("VGB_SS", 1): D(2026, 3, 20), ("BCG", 1): D(2026, 4, 15),
                            ("DPT_VGB_HIB", 1): D(2026, 5, 20), ("OPV", 1): D(2026, 5, 20),
                            ("DPT_VGB_HIB", 2): D(2026, 6, 25), ("OPV", 2): D(2026, 6, 25)}),
    # C, born 10/12/2025, had everything up to measles: one year old on 10/12/2026 → Japanese
    # encephalitis dose 1 due on 10/12. MR and DPT4 wait for 18 months (10/06/2027).
    "C": (D(2025, 12, 10), FULL_INFANCY_2025_12),
    # D, born 25/11/2025, the same plus JE dose 1 on 28/11/2026: JE dose 2 at max(12 months =
    # 25/11, 28/11 + 2 weeks = 12/12) = 12/12 → due (minimum 1 week after = 05/12, met in December).
    "D": (D(2025, 11, 25), {**FULL_INFANCY_2025_12, ("VNNB", 1): D(2026, 11, 28)}),
    # E, born 05/01/2021, nothing recorded, 5 years 11 months: the infant doses are past their
    # age (birth dose, BCG, 5-in-1, polio before 1 year, measles before 2 years); MR and DPT4
    # (18 months = 05/07/2022) and JE dose 1 (12 months = 05/01/2022) can still be given before
    # 6 years (until 04/01/2027) → all three overdue.
    "E": (D(2021, 1, 5), {}),
    # F, born 30/11/2020, six years old on 30/11/2026: nothing can be given any more → not listed.
    "F": (D(2020, 11, 30), {}),
    # G, born 03/01/2027, after the month → not listed.
    "G": (D(2027, 1, 3), {}),
    # H, born 05/12/2026: the birth dose (until 06/12) and BCG are due on 05/12.
    "H": (D(2026, 12, 5), {}),
    # I, born 20/11/2026, nothing recorded: the birth dose could be given until 21/11 only → not
    # due; BCG (20/11) → overdue; the 5-in-1 waits for 20/01/2027.
    "I": (D(2026, 11, 20), {}),
    # J, born 04/10/2026 like A, with the first 5-in-1 given on 20/11 (6 weeks and 3 days, valid):
    # dose 2 at max(3 months = 04/01/2027, 20/11 + 1 month = 20/12) = 04/01/2027 → not in
    # December; polio 1 (04/12) due; BCG and birth dose missing: BCG 04/10 → overdue, birth dose gone.
    "J": (D(2026, 10, 4), {("DPT_VGB_HIB", 1): D(2026, 11, 20)}),
}

EXPECTED = {
    "A": [("DPT_VGB_HIB", 1, D(2026, 12, 4), False), ("OPV", 1, D(2026, 12, 4), False)],
    "B": [("DPT_VGB_HIB", 3, D(2026, 7, 25), True), ("OPV", 3, D(2026, 7, 25), True),
          ("IPV", 1, D(2026, 8, 20), True), ("SOI", 1, D(2026, 12, 20), False)],
    "C": [("VNNB", 1, D(2026, 12, 10), False)],
    "D": [("VNNB", 2, D(2026, 12, 12), False)],
    "E": [("MR", 1, D(2022, 7, 5), True), ("DPT4", 1, D(2022, 7, 5), True), ("VNNB", 1, D(2022, 1, 5), True)],
    "H": [("VGB_SS", 1, D(2026, 12, 5), False), ("BCG", 1, D(2026, 12, 5), False)],
    "I": [("BCG", 1, D(2026, 11, 20), True)],
    "J": [("BCG", 1, D(2026, 10, 4), True), ("OPV", 1, D(2026, 12, 4), False)],
}


def test_the_december_list_matches_the_hand_computed_one():
    children = [Child(record_id=index, name=name, birth_date=birth)
                for index, (name, (birth, _given)) in enumerate(CHILDREN.items(), start=1)]
    given = {index: doses for index, (_name, (_birth, doses)) in enumerate(CHILDREN.items(), start=1)}
    rows = due_list(children, given, SCHEDULE, DECEMBER)
    found = {row.child.name: [(d.vaccine, d.dose, d.due_on, d.overdue) for d in row.doses] for row in rows}
    assert found == EXPECTED
    assert [row.child.name for row in rows] == list(EXPECTED)  # in the children's order
    # Any day of the month names the same month.
    again = due_list(children, given, SCHEDULE, D(2026, 12, 31))
    assert [(r.child.name, len(r.doses)) for r in again] == [(r.child.name, len(r.doses)) for r in rows]


def test_a_month_later_the_doses_move_on():
    """January 2027 for A after the December doses on 15/12: dose 2 at max(04/01, 15/12 + 1 month
    = 15/01) = 15/01/2027."""
    birth, given = CHILDREN["A"]
    given = {**given, ("DPT_VGB_HIB", 1): D(2026, 12, 15), ("OPV", 1): D(2026, 12, 15)}
    rows = due_list([Child(1, "A", birth)], {1: given}, SCHEDULE, D(2027, 1, 1))
    assert [(d.vaccine, d.dose, d.due_on, d.overdue) for d in rows[0].doses] == [
        ("DPT_VGB_HIB", 2, D(2027, 1, 15), False), ("OPV", 2, D(2027, 1, 15), False)]


@pytest.mark.django_db
def test_the_selector_reads_the_register_like_the_hand_computation(station, tule, in_commune):
    """The baby (born 04/05/2026) had the birth dose on 04/05, BCG on 15/05 and the first 5-in-1
    and polio on 15/07: in December, dose 2 of both at max(3 months = 04/08, 15/07 + 1 month =
    15/08) = 15/08 → overdue; IPV at 5 months = 04/10 → overdue; measles waits for 04/02/2027.
    The grandfather and the mother are adults: not listed."""
    from health import vaccination
    from health.models import Vaccination

    with in_commune(tule):
        baby = station["records"]["baby"]
        for code, number, day in (("VGB_SS", 1, D(2026, 5, 4)), ("BCG", 1, D(2026, 5, 15)),
                                  ("DPT_VGB_HIB", 1, D(2026, 7, 15)), ("OPV", 1, D(2026, 7, 15))):
            Vaccination.objects.create(record=baby, vaccine=code, dose=number, given_on=day)
        rows = vaccination.due_for_month(DECEMBER)
        assert len(rows) == 1
        row = rows[0]
        assert (row.child.name, row.child.birth_date, row.child.village, row.child.head, row.child.phone) == (
            "Lò Văn Bé", D(2026, 5, 4), "Bản Thử Y", "Lò Văn Ông", "0912000111")
        assert [(d.vaccine, d.dose, d.due_on, d.overdue) for d in row.doses] == [
            ("DPT_VGB_HIB", 2, D(2026, 8, 15), True), ("OPV", 2, D(2026, 8, 15), True),
            ("IPV", 1, D(2026, 10, 4), True)]
        assert vaccination.due_for_month(DECEMBER, village_id=station["village"].pk + 1000) == []
        # Inbox: one child overdue, three doses without a reminder.
        assert vaccination.inbox_counts(D(2026, 12, 7)) == {"overdue": 1, "unsent": 3}


def test_the_demo_doses_follow_the_schedule():
    """Every demo dose passes the register's checks; over many children most are on time, some
    late and a few vaccines stop (missing doses)."""
    import random

    from health import vaccination
    from health.vaccination_demo import doses_for

    rng = random.Random(7)
    today = D(2026, 12, 7)
    statuses = []
    for index in range(300):
        birth = today - datetime.timedelta(days=rng.randint(0, 6 * 365 - 30))
        doses = doses_for(birth, today, rng, SCHEDULE)
        given = {}
        for code, number, day in doses:
            vaccination.check_dose(birth=birth, given=given, vaccine=code, dose=number, given_on=day, today=today,
                                   schedule=SCHEDULE)
            given[(code, number)] = day
        statuses += [line.status for line in vaccination.card(birth, given, SCHEDULE, today)]
    on_time, late = statuses.count("on_time"), statuses.count("late")
    missing = statuses.count("missed") + statuses.count("overdue")
    assert on_time > 3 * late > 0 and 0 < missing < on_time
