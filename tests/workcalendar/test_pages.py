from django.utils import timezone, translation

from workcalendar.models import CalendarYear


def _text(key):
    with translation.override("vi"):
        return translation.gettext(key)


def test_calendar_requires_login(db, client_for):
    response = client_for("localhost").get("/calendar/2026/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_year_page_lists_days_and_confidence(db, make_user, client_for):
    client = client_for("localhost", make_user("reader"))
    response = client.get("/calendar/2026/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "16/02/2026" in text and "20/02/2026" in text and "24/11/2026" in text
    assert "10/01/2026" in text and "22/08/2026" in text  # worked Saturdays
    assert "9441/TB-BNV" in text
    assert "2.026" not in text and "2.027" not in text  # years are not shown with a thousands separator
    assert _text("Secondary source") in text and _text("Confirmed") in text
    assert _text("Unconfirmed – computed from the Labour Code") not in text
    assert "/admin/" not in text  # readers get no edit link


def test_unconfirmed_year_shows_the_badge(db, make_user, client_for):
    client = client_for("localhost", make_user("reader"))
    text = client.get("/calendar/2027/").content.decode()
    assert _text("Unconfirmed – computed from the Labour Code") in text
    assert "06/02/2027" in text and "03/05/2027" in text and "24/11/2027" in text
    assert _text("made up for %(date)s") % {"date": "01/05/2027"} in text
    # A year with no row at all is computed too.
    assert _text("Unconfirmed – computed from the Labour Code") in client.get("/calendar/2030/").content.decode()


def test_index_redirects_to_this_year_and_bad_year_is_404(db, make_user, client_for):
    client = client_for("localhost", make_user("reader"))
    response = client.get("/calendar/")
    assert response.status_code == 302 and response["Location"].endswith(f"/calendar/{timezone.localdate().year}/")
    assert client.get("/calendar/3000/").status_code == 404


def test_superuser_edits_through_the_national_admin(db, make_user, client_for):
    root = make_user("root", is_staff=True, is_superuser=True)
    client = client_for("localhost", root)
    year = CalendarYear.objects.get(year=2026)
    assert f"/admin/workcalendar/calendaryear/{year.pk}/change/" in client.get("/calendar/2026/").content.decode()
    page = client.get(f"/admin/workcalendar/calendaryear/{year.pk}/change/")
    assert page.status_code == 200 and "16/02/2026" in page.content.decode()
    # A plain user cannot open the admin.
    reader = client_for("localhost", make_user("reader"))
    assert reader.get(f"/admin/workcalendar/calendaryear/{year.pk}/change/").status_code == 302


def _year_form(year, date):
    return {
        "year": str(year.year), "status": year.status, "notice": year.notice, "source": year.source, "note": year.note,
        "overrides-TOTAL_FORMS": "1", "overrides-INITIAL_FORMS": "0",
        "overrides-MIN_NUM_FORMS": "0", "overrides-MAX_NUM_FORMS": "1000",
        "overrides-0-date": date, "overrides-0-kind": "day_off", "overrides-0-name": "Nghỉ bù",
        "overrides-0-confidence": "confirmed", "overrides-0-source": "test",
    }


def test_admin_refuses_a_day_outside_its_year_and_saves_a_good_one(db, make_user, client_for):
    from workcalendar import services
    import datetime

    client = client_for("localhost", make_user("root", is_staff=True, is_superuser=True))
    year = CalendarYear.objects.get(year=2027)
    url = f"/admin/workcalendar/calendaryear/{year.pk}/change/"
    response = client.post(url, _year_form(year, "04/01/2028"))
    assert response.status_code == 200  # the form again, with the error
    assert _text("The date must fall in %(year)s.") % {"year": 2027} in response.content.decode()
    assert not year.overrides.exists()
    assert services.is_working_day(datetime.date(2027, 1, 4))
    response = client.post(url, _year_form(year, "04/01/2027"))
    assert response.status_code == 302
    assert not services.is_working_day(datetime.date(2027, 1, 4))
    assert year.overrides.get().history.count() == 1
