"""Session hardening of /beheer: login throttling, a fresh session on login, logout (here and
everywhere), the __Host- cookie, CSRF on the log-out buttons."""

from __future__ import annotations

import uuid

import pytest

from forms_backend import accounts, create_app, db

PASSWORD = "een-lang-wachtwoord"


@pytest.fixture
def secure_app(app_config):
    app_config.update(SESSION_COOKIE_SECURE=True)
    return create_app(app_config)


def https_client(app):
    return app.test_client()


def login(client, email="coord@brug.example.nl", password=PASSWORD, **kwargs):
    return client.post("/beheer/inloggen", data={"email": email, "password": password}, **kwargs)


def test_host_cookie_over_https(secure_app, auth):
    auth.app = secure_app
    auth.create()
    client = secure_app.test_client()
    response = login(client, base_url="https://brug.test")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-brug=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    assert client.get("/beheer/", base_url="https://brug.test").status_code == 200


def test_login_rotates_the_session(client, auth):
    auth.create()
    with client.session_transaction() as planted:  # e.g. fixed by an attacker before login
        planted["planted"] = "aanvaller"
        planted["uid"] = 999
    login(client)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert isinstance(after["uid"], int) and after["uid"] != 999


def test_wrong_password_does_not_log_in_and_says_so_in_dutch(client, auth):
    auth.create()
    response = login(client, password="verkeerd-wachtwoord")
    assert response.status_code == 422
    assert "kennen we niet" in response.get_data(as_text=True)
    assert client.get("/beheer/").status_code == 302


def test_unknown_and_inactive_accounts_get_the_same_answer(client, auth, app):
    user_id = auth.create()
    unknown = login(client, email="niemand@brug.example.nl").get_data(as_text=True)
    with app.app_context(), db.transaction() as s:
        s.get(accounts.User, user_id).active = False
    inactive = login(client).get_data(as_text=True)
    assert ("kennen we niet" in unknown) and ("kennen we niet" in inactive)
    assert client.get("/beheer/").status_code == 302


@pytest.fixture
def throttled_app(app_config):
    app_config.update(RATELIMIT_ENABLED=True)
    return create_app(app_config)


def test_login_throttling_per_account(throttled_app, auth):
    auth.app = throttled_app
    auth.create()
    client = throttled_app.test_client()
    addr = {"REMOTE_ADDR": f"10.1.{uuid.uuid4().int % 250}.1"}
    wrong = [
        login(client, password="verkeerd-wachtwoord", environ_base=addr).status_code
        for _ in range(5)
    ]
    assert wrong == [422] * 5
    blocked = login(client, environ_base=addr)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Even wachten" in blocked.get_data(as_text=True)
    assert client.get("/beheer/").status_code == 302
    # another account from another address is not blocked
    auth.create("ander@brug.example.nl")
    other = login(client, email="ander@brug.example.nl", environ_base={"REMOTE_ADDR": "10.2.0.1"})
    assert other.status_code == 302


def test_logging_in_often_never_locks_anyone_out(throttled_app, auth):
    """Only wrong passwords count: 30 good logins from one office address in a row all get in
    (the limits are 5 a minute per account, 10 per address)."""
    auth.app = throttled_app
    auth.create()
    client = throttled_app.test_client()
    addr = {"REMOTE_ADDR": f"10.4.{uuid.uuid4().int % 250}.1"}
    assert [login(client, environ_base=addr).status_code for _ in range(30)] == [302] * 30
    wrong = [
        login(client, password="verkeerd-wachtwoord", environ_base=addr).status_code
        for _ in range(6)
    ]
    assert wrong == [422] * 5 + [429]


def test_login_throttling_per_address(throttled_app, auth):
    client = throttled_app.test_client()
    addr = {"REMOTE_ADDR": "10.3.0.1"}
    statuses = [
        login(client, email=f"iemand{n}@brug.example.nl", environ_base=addr).status_code
        for n in range(11)
    ]
    assert statuses == [422] * 10 + [429]


def test_logout_ends_this_session_only(app, auth):
    auth.create()
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second)
    assert first.post("/beheer/uitloggen").status_code == 302
    assert first.get("/beheer/").status_code == 302
    assert second.get("/beheer/").status_code == 200


def test_logout_everywhere_ends_every_session_and_copied_cookies(app, auth):
    auth.create()
    laptop, phone, thief = app.test_client(), app.test_client(), app.test_client()
    login(laptop)
    login(phone)
    cookie = phone.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    assert thief.get("/beheer/").status_code == 200
    assert laptop.post("/beheer/overal-uitloggen").status_code == 302
    for client in (laptop, phone, thief):
        response = client.get("/beheer/")
        assert response.status_code == 302 and "/beheer/inloggen" in response.location
    login(phone)  # a new login works again
    assert phone.get("/beheer/").status_code == 200


def test_password_change_ends_other_sessions(app, auth):
    user_id = auth.create()
    client = app.test_client()
    login(client)
    with app.app_context(), db.transaction() as s:
        accounts.set_password(s, s.get(accounts.User, user_id), "een-nieuw-lang-wachtwoord")
    assert client.get("/beheer/").status_code == 302


def test_logout_is_post_only(client, auth):
    auth.create()
    login(client)
    # a GET falls through to the static site (404) and changes nothing
    assert client.get("/beheer/uitloggen").status_code in (404, 405)
    assert client.get("/beheer/overal-uitloggen").status_code in (404, 405)
    assert client.get("/beheer/").status_code == 200


@pytest.fixture
def csrf_app(app_config):
    app_config.update(WTF_CSRF_ENABLED=True)
    return create_app(app_config)


def test_logout_buttons_need_the_csrf_token(csrf_app, auth):
    """A cross-site form cannot log a coordinator out everywhere."""
    import re

    auth.app = csrf_app
    auth.create()
    client = csrf_app.test_client()
    page = client.get("/beheer/inloggen").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/beheer/inloggen",
        data={"email": "coord@brug.example.nl", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    dashboard = client.get("/beheer/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', dashboard).group(1)
    assert client.post("/beheer/overal-uitloggen").status_code == 400
    assert client.post("/beheer/uitloggen", data={"csrf_token": "vervalst"}).status_code == 400
    assert client.get("/beheer/").status_code == 200  # still logged in
    assert client.post("/beheer/overal-uitloggen", data={"csrf_token": token}).status_code == 302
    assert client.get("/beheer/").status_code == 302


def test_login_without_csrf_token_is_refused(csrf_app, auth):
    auth.app = csrf_app
    auth.create()
    client = csrf_app.test_client()
    response = login(client)
    assert response.status_code in (400, 422)
    body = response.get_data(as_text=True)
    assert "verlopen" in body or "opnieuw" in body
    assert client.get("/beheer/").status_code == 302
