"""A class's pages are reached from the class page and a student's from the student page, without
typing an address: each role sees the links its checks open, and every link shown opens."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db(transaction=False)

ROLES = ["principal", "vice", "math", "literature", "accountant", "clerk"]


def _links(html: str, label: str) -> list[str]:
    nav = re.search(r'<nav class="searchbar" aria-label="' + re.escape(label) + r'">(.*?)</nav>', html, re.S)
    return re.findall(r'href="([^"]+)"', nav.group(1)) if nav else []


@pytest.mark.parametrize("who", ROLES)
def test_every_link_shown_on_the_class_and_student_pages_opens(tule, schoolyard, school_people, client_for, who):
    client = client_for("tule.localhost", school_people[who])
    class6a, an = schoolyard["class6a"], schoolyard["students6"][0]
    page = client.get(f"/schools/classes/{class6a.pk}/")
    assert page.status_code == 200
    links = _links(page.content.decode(), "Trang của lớp 6A")
    student = client.get(f"/schools/students/{an.pk}/")
    assert student.status_code == 200
    links += _links(student.content.decode(), "Trang của lớp 6A")
    assert links, who
    for url in links:
        answer = client.get(url, follow=True)
        assert answer.status_code == 200, (who, url, answer.status_code)
    if who == "principal":  # the principal opens every page of the class
        for part in ("/marks/", "/attendance/", "/attendance/month/", "/timetable/", "/messages/",
                     "/reports/classes/", "/fees/classes/", "/contact-book/", "card.pdf"):
            assert any(part in url for url in links), part
    if who == "math":  # a teacher of the class: no fees, no report cards of the whole class? (reports.make: yes)
        assert not any("/fees/" in url for url in links)
    if who == "accountant":
        assert any("/fees/classes/" in url for url in links) and not any("/marks/" in url for url in links)
