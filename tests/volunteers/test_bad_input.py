"""Malformed input never gives a 500; security headers; rate limits with memory and Redis."""

from __future__ import annotations

import os
import re

import pytest

from forms_backend import create_app, db

SIGNUP_FIELDS = (
    "name",
    "email",
    "phone",
    "postcode",
    "motivation",
    "heard_via",
    "q_ervaring",
    "q_twee_jaar",
    "availability",
)
NASTY = [
    "x" * 100_000,
    "a\x00b",
    "Jan\r\nBcc: evil@example.nl",
    "<script>alert('x')</script>",
    "\ufffe\uffff",
    '=HYPERLINK("http://evil.example")',
    "‮ trol",
]


@pytest.mark.parametrize("field", SIGNUP_FIELDS)
@pytest.mark.parametrize(
    "value", NASTY, ids=["long", "nul", "header", "html", "nonchar", "formula", "bidi"]
)
def test_no_500_on_any_field(vol, field, value):
    response = vol.sign_up(**{field: value})
    assert response.status_code in (303, 413, 422), (field, response.status_code)
    html = response.get_data(as_text=True)
    assert "<script>alert('x')</script>" not in html
    assert "Traceback" not in html


def test_invalid_utf8_bytes_and_garbage_bodies(vol, client):
    guard = vol.form()
    body = f"started={guard['started']}&name=%FF%FE&email=jan%40example.nl&postcode=6811AA".encode()
    response = client.post(
        "/aanmelden/cosa", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 422
    for content_type in ("application/json", "multipart/form-data; boundary=x", "text/plain"):
        assert client.post(
            "/aanmelden/cosa", data=b"\x00\xff{{", content_type=content_type
        ).status_code in (400, 422)


def test_header_injection_in_email_stores_nothing(vol):
    response = vol.sign_up(email="jan@example.nl\r\nBcc: evil@example.nl")
    assert response.status_code == 422
    assert vol.all() == []


def test_name_with_line_break_never_reaches_mail_headers(vol):
    assert vol.sign_up(name="Jan\r\nBcc: evil@example.nl").status_code == 303
    [message] = vol.deliver()
    assert message["Bcc"] is None
    assert not any(line.startswith("Bcc:") for line in message.get_content().splitlines())


def test_too_large_body_is_413(client):
    response = client.post("/aanmelden/cosa", data={"motivation": "x" * 300_000})
    assert response.status_code == 413
    assert "Te veel tekst" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/aanmelden/cosa",
        "/aanmelden/cosa/bedankt",
        "/mijn/",
        "/mijn/onzin",
        "/aanmelden/bevestigen/onzin",
        "/aanmelden/%00",
    ],
)
def test_security_headers(client, path):
    response = client.get(path)
    assert response.status_code < 500
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]
    html = response.get_data(as_text=True)
    assert " onclick=" not in html and " onchange=" not in html


def test_templates_have_no_inline_script():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "forms_backend" / "templates"
    for path in [*root.glob("volunteer/*.html"), *root.glob("beheer/vrijwilligers/*.html")]:
        text = path.read_text()
        assert "<script" not in text, path
        assert not re.search(r"\son[a-z]+=", text), path


# ---------------------------------------------------------------------------------------------
# rate limits


@pytest.fixture
def limited(app_config, request):
    app_config["RATELIMIT_ENABLED"] = True
    app_config["VOLUNTEER_RATELIMIT_IP"] = "100/minute"
    app_config["VOLUNTEER_RATELIMIT_ADDRESS"] = "2/hour"
    storage = getattr(request, "param", "memory://")
    app_config["RATELIMIT_STORAGE_URL"] = storage
    app = create_app(app_config)
    yield app
    db.get_engine(app).dispose()


def _limited_story(vol):
    statuses = [vol.sign_up(email="same@example.nl").status_code for _ in range(3)]
    other = vol.sign_up(email="other@example.nl").status_code
    return statuses, other, vol


def test_rate_limit_per_address_in_memory(limited, vol_for):
    statuses, other, _ = _limited_story(vol_for(limited))
    assert statuses == [303, 303, 429]
    assert other == 303


def test_rate_limit_per_ip(app_config, vol_for):
    app_config.update(
        RATELIMIT_ENABLED=True,
        VOLUNTEER_RATELIMIT_IP="3/minute",
        VOLUNTEER_RATELIMIT_ADDRESS="100/minute",
    )
    app = create_app(app_config)
    vol = vol_for(app)
    statuses = [vol.sign_up(email=f"p{i}@example.nl").status_code for i in range(4)]
    assert statuses == [303, 303, 303, 429]
    page = vol.sign_up(email="q@example.nl", motivation="Ik help graag mee.")
    html = page.get_data(as_text=True)
    # the form again, with the message and everything typed: nothing is lost
    assert page.status_code == 429 and "te vaak geprobeerd" in html
    assert 'value="q@example.nl"' in html and "Ik help graag mee." in html
    assert len(vol.all()) == 3
    db.get_engine(app).dispose()


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=0.5).ping())
    except Exception:
        return False


@pytest.mark.redis
@pytest.mark.parametrize("limited", [REDIS_URL + "/15"], indirect=True)
def test_rate_limit_with_redis(limited, vol_for):
    if not _redis_up():
        pytest.skip("Redis is not running")
    import redis

    redis.Redis.from_url(REDIS_URL + "/15").flushdb()
    statuses, other, _ = _limited_story(vol_for(limited))
    assert statuses == [303, 303, 429]
    assert other == 303
    keys = redis.Redis.from_url(REDIS_URL + "/15").keys("*")
    assert any(b"aanmelden-adres" in key for key in keys)  # the counters live in Redis
    assert not any(b"example.nl" in key for key in keys)  # without the address itself


@pytest.mark.parametrize("limited", ["redis://127.0.0.1:1/0"], indirect=True)
def test_redis_down_falls_back_without_500(limited, vol_for):
    statuses, _, vol = _limited_story(vol_for(limited))
    assert 500 not in statuses and statuses[0] == 303
    assert len(vol.all()) == 2
