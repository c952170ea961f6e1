"""The marks grid in Chromium, used with the keyboard only: a mark typed and Enter moves down, an
arrow moves right, a 3×2 block pasted from a spreadsheet fills the cells from the focused one, the
cells say saved, and the values are there after a reload; a wrong mark shows the Vietnamese
message beside its cell and is not saved; a save by another session shows the conflict with the
other value, and overwriting it saves.

The rows are committed in Tú Lệ (the live server has connections of its own) and removed after."""
from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import translation
from django_tenants.utils import schema_context

from tests.browser import live_server, require_chromium
from tests.conftest import host_client

pytestmark = [pytest.mark.django_db]

TULE = "c_04630"
PREFIX = "gridb_"


def _models():
    from education.models import (
        Enrolment, Mark, School, SchoolClass, SchoolYear, StaffMember, Student, StudentResult, Subject,
        SubjectResult, TeachingAssignment,
    )
    from population.models import AccessLog, Household, Resident, Village

    # children first
    return [SubjectResult, StudentResult, Mark, Enrolment, TeachingAssignment, Subject, SchoolClass, StaffMember,
            School, SchoolYear, Student, Resident, Household, Village, AccessLog]


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    require_chromium()
    from communes.models import Commune, Membership, Role, User
    from education.curriculum import ensure_subjects
    from education.models import (
        Enrolment, School, SchoolClass, SchoolLevel, SchoolYear, StaffMember, StaffPosition, Student, Subject,
        TeachingAssignment,
    )
    from population.models import Household, Resident, Village

    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        tule = Commune.objects.get(schema_name=TULE)
        forget_users()
        with schema_context(TULE):
            before = {model: set(model.objects.values_list("pk", flat=True)) for model in _models()}
        try:
            people = {}
            for key, name in (("math", "Lường Văn Toán"), ("vice", "Lò Thị Phó")):
                user = User.objects.create_user(PREFIX + key, password="Mat-khau-2026!", full_name=name)
                Membership.objects.create(user=user, commune=tule, role=Role.SCHOOL_STAFF)
                people[key] = user
            with schema_context(TULE):
                ensure_subjects([6])
                village = Village.objects.create(name="Bản Lưới Thử")
                year = SchoolYear.objects.create(name="2031-2032", starts_on=datetime.date(2031, 9, 5),
                                                 ends_on=datetime.date(2032, 5, 31))
                school = School.objects.create(name="Trường THCS Lưới Thử", level=SchoolLevel.LOWER_SECONDARY)
                math = StaffMember.objects.create(school=school, user=people["math"], full_name="Lường Văn Toán")
                StaffMember.objects.create(school=school, user=people["vice"], full_name="Lò Thị Phó",
                                           position=StaffPosition.VICE_PRINCIPAL)
                school_class = SchoolClass.objects.create(school=school, year=year, grade=6, name="6L")
                subject = Subject.objects.get(grade=6, code="toan")
                TeachingAssignment.objects.create(school_class=school_class, subject=subject, teacher=math)
                household = Household.objects.create(code="GRID-001", village=village)
                enrolments = []
                for n in range(5):
                    child = Resident.objects.create(household=household, full_name=f"Lò Văn Lưới {n + 1}",
                                                    search_name=f"lo van luoi {n + 1}",
                                                    birth_date=datetime.date(2020, 1, n + 1), sex="male",
                                                    relation="child")
                    student = Student.objects.create(resident=child)
                    enrolments.append(Enrolment.objects.create(student=student, school_class=school_class, year=year,
                                                               number=n + 1, starts_on=year.starts_on))
            cookies = {key: host_client("tule.localhost", user, second_factor=True).cookies["sessionid"].value
                       for key, user in people.items()}
            connection.set_schema_to_public()
            with live_server() as port:
                yield {"port": port, "cookies": cookies, "class": school_class, "subject": subject,
                       "enrolments": enrolments}
        finally:
            connection.set_schema_to_public()
            with schema_context(TULE):
                for model in _models():
                    new = model.objects.exclude(pk__in=before[model])
                    ids = list(new.values_list("pk", flat=True))
                    history = getattr(model, "history", None)
                    if history is not None:
                        history.filter(id__in=ids).delete()
                    new._raw_delete(new.db)
            connection.set_schema_to_public()
            from django.contrib.sessions.models import Session

            Session.objects.all().delete()
            forget_users()


def forget_users():
    from communes.models import Membership, TotpDevice, User

    users = User.objects.filter(username__startswith=PREFIX)
    Membership.objects.filter(user__in=users).delete()
    TotpDevice.objects.filter(user__in=users).delete()
    users._raw_delete(users.db)


@pytest.fixture
def open_grid(browser, site):
    contexts = []

    def open_as(who):
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
        context.add_cookies([{"name": "sessionid", "value": site["cookies"][who], "domain": "tule.localhost",
                              "path": "/"}])
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
        page.goto(f"http://tule.localhost:{site['port']}/schools/classes/{site['class'].pk}/marks/"
                  f"{site['subject'].pk}/sem1/")
        contexts.append(context)
        return page

    yield open_as
    for context in contexts:
        context.close()


def _cell(site, row, column):
    return f"input[name='c_{site['enrolments'][row].pk}_{column}']"


def _focused(page):
    return page.evaluate("document.activeElement.name")


def _saved(page, site, row, column):
    page.wait_for_selector(f"td.cell.saved {_cell(site, row, column)}", timeout=10000)


def test_the_grid_with_the_keyboard(site, open_grid):
    from django.utils.translation import gettext

    page = open_grid("math")
    other = open_grid("vice")  # another session with the grid open, still showing empty cells
    page.focus(_cell(site, 0, "tx1"))
    page.keyboard.type("8")
    page.keyboard.press("Enter")
    assert _focused(page) == f"c_{site['enrolments'][1].pk}_tx1"
    page.keyboard.type("7,5")
    page.keyboard.press("ArrowRight")
    assert _focused(page) == f"c_{site['enrolments'][1].pk}_tx2"
    page.keyboard.press("ArrowDown")
    assert _focused(page) == f"c_{site['enrolments'][2].pk}_tx2"
    page.keyboard.press("ArrowLeft")
    assert _focused(page) == f"c_{site['enrolments'][2].pk}_tx1"
    # a 3×2 block copied from a spreadsheet, pasted in the focused cell (row 3, tx1)
    page.evaluate("""() => { const data = new DataTransfer(); data.setData('text/plain', '6\\t7\\n8,5\\t9\\n5\\t6\\n');
        document.activeElement.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
        cancelable: true})); }""")
    for row, column in ((0, "tx1"), (1, "tx1"), (2, "tx1"), (2, "tx2"), (3, "tx1"), (3, "tx2"), (4, "tx1"),
                        (4, "tx2")):
        _saved(page, site, row, column)
    # a wrong mark: the message beside the cell, not saved
    page.focus(_cell(site, 0, "tx3"))
    page.keyboard.type("8,25")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"td.cell.error {_cell(site, 0, 'tx3')}", timeout=10000)
    message = page.locator(f"td.cell.error:has({_cell(site, 0, 'tx3')}) .cell-error").inner_text()
    with translation.override("vi"):
        assert message == gettext("A mark has at most one decimal: 8,5, not 8,25.")
    page.reload()
    values = {(row, column): page.input_value(_cell(site, row, column))
              for row in range(5) for column in ("tx1", "tx2", "tx3")}
    assert values[(0, "tx1")] == "8,0" and values[(1, "tx1")] == "7,5"
    assert [values[(r, "tx1")] for r in (2, 3, 4)] == ["6,0", "8,5", "5,0"]
    assert [values[(r, "tx2")] for r in (2, 3, 4)] == ["7,0", "9,0", "6,0"]
    assert values[(0, "tx3")] == ""
    # the other session saves over row 1's tx1 that it saw empty: the conflict shows the value
    other.focus(_cell(site, 0, "tx1"))
    other.keyboard.type("4")
    other.keyboard.press("Enter")
    other.wait_for_selector(f"td.cell.conflict {_cell(site, 0, 'tx1')}", timeout=10000)
    box = other.locator(f"td.cell.conflict:has({_cell(site, 0, 'tx1')}) .cell-status").inner_text()
    assert "8,0" in box and "Lường Văn Toán" in box
    # overwrite: saved with the new version
    other.locator(f"td.cell.conflict:has({_cell(site, 0, 'tx1')}) button.overwrite").click()
    _saved(other, site, 0, "tx1")
    page.reload()
    assert page.input_value(_cell(site, 0, "tx1")) == "4,0"
    assert page.js_errors == [] and other.js_errors == []
