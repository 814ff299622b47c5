"""A second-factor code used twice at the same moment (PostgreSQL, threads against the live
server): one login, never two — for a TOTP code and for a recovery code."""

import re

import pytest
import requests

from tests.accounts.mfa_helpers import code_at, with_totp
from tests.accounts.test_concurrency import together
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.postgres_only(
        reason="needs PostgreSQL (row locks): run with DATABASE_URL=postgres://…"
    ),
    pytest.mark.django_db(transaction=True),
]


def past_the_password(base_url: str, user) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base_url}/", timeout=10).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    answer = browser.post(
        f"{base_url}/",
        data={"email": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base_url}/"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.headers["Location"].startswith("/connexion/verification/")
    browser.csrf = token
    return browser


def send(base_url: str, code: str):
    def post(browser: requests.Session) -> str:
        answer = browser.post(
            f"{base_url}/connexion/verification/",
            data={"code": code, "csrfmiddlewaretoken": browser.csrf},
            headers={"Referer": f"{base_url}/connexion/verification/"},
            allow_redirects=False,
            timeout=20,
        )
        browser.close()
        return "in" if answer.status_code == 302 else "refused"

    return post


@pytest.mark.parametrize("kind", ["totp", "recovery"])
def test_one_code_twice_at_once_opens_one_session(live_server, kind):
    for _ in range(3):
        user = UserFactory()
        key, codes = with_totp(user)
        code = code_at(key) if kind == "totp" else codes[0]
        browsers = [past_the_password(live_server.url, user) for _ in range(2)]
        outcomes = together(send(live_server.url, code), browsers)
        assert sorted(outcomes) == ["in", "refused"], outcomes
