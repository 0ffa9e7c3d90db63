"""Sign-in attempts are limited per user name and address, on the API and the console."""

from __future__ import annotations

import httpx

from haetae.app import create_app
from haetae.config import Settings
from tests.support.server import start_server


def test_too_many_sign_in_attempts_are_refused_with_retry_after(tmp_path):
    # An hour, not a minute: the sliding-window counter weighs the previous window, so
    # attempts straddling a window's edge could count less than 3 in a short window.
    settings = Settings(HAETAE_DATA_DIR=tmp_path, JWT_SECRET="s" * 40, LOGIN_RATE_LIMIT="3/hour")
    running = start_server(create_app(settings))
    try:
        login = f"{running.url}/api/v1/auth/login"
        wrong = {"username": "admin", "password": "guess"}
        assert [httpx.post(login, json=wrong).status_code for _ in range(3)] == [401] * 3
        refused = httpx.post(login, json=wrong)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "RATE_LIMITED"
        assert int(refused.headers["Retry-After"]) >= 1
        # Another name from the same address still gets its own attempts.
        other = httpx.post(login, json={"username": "minji", "password": "x"})
        assert other.status_code == 401

        # The console's form counts against the same limit.
        page = httpx.get(f"{running.url}/login")
        form = {
            "username": "admin",
            "password": "guess",
            "next": "/",
            "csrf_token": _csrf(page.text),
        }
        answer = httpx.post(f"{running.url}/login", data=form, cookies=page.cookies)
        assert answer.status_code == 429
        assert "Too many sign-in attempts" in answer.text
    finally:
        running.stop()


def _csrf(html: str) -> str:
    marker = 'name="csrf_token" value="'
    return html.split(marker, 1)[1].split('"', 1)[0]
