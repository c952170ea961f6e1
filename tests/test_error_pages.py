"""Error pages: Vietnamese, in the site's layout (stylesheet, skip link), whatever the host, and
the officials' menus mark the page shown. DEBUG is off, as in production."""
import re

import pytest
from django.test import Client
from django.utils import translation

from communes.models import Role

STYLESHEET = '<link rel="stylesheet" href="/static/css/site.css">'


def in_layout(html: str) -> None:
    assert STYLESHEET in html
    assert '<a class="skip" href="#main">Bỏ qua đến nội dung chính</a>' in html
    assert '<main id="main"' in html
    assert '<html lang="vi">' in html


def test_page_not_found_on_a_commune_host(db, tule, client_for, settings):
    assert settings.DEBUG is False
    response = client_for("tule.localhost").get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    in_layout(html)
    assert "Không tìm thấy trang" in html and "Page not found" not in html
    assert "Tú Lệ" in html
    # A visitor is in the citizens' layout (its procedures, the status lookup) …
    assert '<a href="/services/">Thủ tục hành chính</a>' in html or 'href="/services/"' in html.split("</header>")[0]


def test_officials_get_error_pages_in_their_layout(db, tule, make_user, client_for):
    clerk = make_user("error_clerk", roles={tule: [Role.CLERK]})
    html = client_for("tule.localhost", clerk).get("/no-such-page/").content.decode()
    in_layout(html)
    assert 'href="/services/"' not in html.split("</header>")[0]


def test_access_denied_in_the_layout(db, tule, make_user, client_for):
    user = make_user("no_documents", roles={tule: [Role.HEALTH_STAFF]})
    response = client_for("tule.localhost", user).get("/documents/")
    html = response.content.decode()
    assert response.status_code == 403
    in_layout(html)
    assert "Không có quyền truy cập" in html and "Access denied" not in html


def test_server_error_in_the_layout(db, tule, settings):
    settings.ROOT_URLCONF = "tests.error_urls"
    client = Client(HTTP_HOST="tule.localhost", raise_request_exception=False)
    response = client.get("/fails/")
    html = response.content.decode()
    assert response.status_code == 500
    in_layout(html)
    assert "Lỗi máy chủ" in html and "Server error" not in html
    assert "Tú Lệ" in html


def test_a_form_sent_without_its_token_gets_a_page_that_says_what_to_do(db, tule):
    client = Client(HTTP_HOST="tule.localhost", enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    html = response.content.decode()
    assert response.status_code == 403
    in_layout(html)
    assert "Biểu mẫu đã hết hạn" in html and "tải lại trang" in html
    assert "CSRF" not in re.sub(r"<[^>]+>", " ", html)


def test_an_unknown_host_gets_the_styled_page_in_vietnamese(db, communes, settings):
    settings.WHITENOISE_USE_FINDERS = True  # as the demo serves them; production has collectstatic
    with translation.override("en"):  # a language left active by an earlier request of the thread
        client = Client(HTTP_HOST="nowhere.example")
        response = client.get("/")
        html = response.content.decode()
        assert response.status_code == 404
        in_layout(html)
        assert "Không tìm thấy trang" in html
        css = client.get("/static/css/site.css")
    assert css.status_code == 200 and "text/css" in css["Content-Type"]
    assert b".skip" in b"".join(css.streaming_content) if css.streaming else b".skip" in css.content


def test_an_unknown_host_reads_english_for_who_chose_it(db, communes):
    client = Client(HTTP_HOST="nowhere.example")
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert "Page not found" in html and '<html lang="en">' in html


@pytest.mark.parametrize("path,current,others", [
    ("/documents/", "Tổng quan", ["Văn bản đến", "Văn bản đi"]),
    ("/documents/incoming/", "Văn bản đến", ["Tổng quan", "Văn bản đi"]),
    ("/documents/incoming/new/", "Văn bản đến", ["Tổng quan", "Văn bản đi"]),
])
def test_the_officials_menu_marks_the_page_shown(db, tule, make_user, client_for, path, current, others):
    user = make_user("menu_clerk", roles={tule: [Role.CLERK]})
    html = client_for("tule.localhost", user).get(path).content.decode()
    menu = html.split('<nav class="searchbar"', 1)[1].split("</nav>", 1)[0]
    marked = re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]*)</a>', menu)
    assert marked == [current], (path, marked)
    for label in others:
        assert label in menu


def test_a_form_with_errors_starts_with_a_summary_linking_to_each_field(db, tule, make_user, client_for):
    user = make_user("summary_specialist", roles={tule: [Role.SPECIALIST]})
    response = client_for("tule.localhost", user).post("/population/residents/new/", {"full_name": ""})
    html = response.content.decode()
    assert response.status_code == 400  # the form again, with what to fix
    summary = html.split('<div class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "Có lỗi cần sửa" in summary
    links = re.findall(r'<a href="#(id_[a-z_]+)">', summary)
    assert "id_full_name" in links
    for field_id in links:
        assert f'id="{field_id}"' in html
    assert html.index('class="error-summary"') < html.index('id="id_full_name"')
