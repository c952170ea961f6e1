"""Password reset on a commune host, end to end through the e-mail."""
import re

from django.core import mail


def test_password_reset_by_email(db, tule, make_user, client_for):
    make_user("hoa", email="hoa@tule.example.gov.vn", password="Cu-mat-khau-1")
    client = client_for("tule.localhost")
    page = client.get("/accounts/password/reset/")
    assert page.status_code == 200 and "Đặt lại mật khẩu" in page.content.decode()
    response = client.post("/accounts/password/reset/", {"email": "hoa@tule.example.gov.vn"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "tule.localhost" in message.subject and "hoa" in message.body
    link = re.search(r"http://tule\.localhost(/accounts/password/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Chọn mật khẩu mới" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "Moi-mat-khau-2026", "new_password2": "Moi-mat-khau-2026"})
    assert done.status_code == 302
    assert client.login(username="hoa", password="Moi-mat-khau-2026")


def test_unknown_address_reveals_nothing(db, tule, client_for, make_user):
    make_user("hoa", email="hoa@tule.example.gov.vn")
    known = client_for("tule.localhost").post("/accounts/password/reset/", {"email": "hoa@tule.example.gov.vn"})
    response = client_for("tule.localhost").post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert (response.status_code, response["Location"]) == (known.status_code, known["Location"]) == (302, "/accounts/password/reset/done/")
    # The same work either way: the unknown address gets an e-mail too, without a link.
    assert [m.to for m in mail.outbox] == [["hoa@tule.example.gov.vn"], ["nobody@example.org"]]
    assert "/accounts/password/reset/" not in mail.outbox[1].body
