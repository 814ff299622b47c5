"""One solved anti-robot check posted by several browsers at the same moment, against a live
server on PostgreSQL (#17 item 11): one account is created, the others are told the check has
already served. A check kept across a redisplay must stay single-use under concurrency too."""

import re
import threading

import pytest
import requests

from portail.accounts import altcha
from portail.accounts.models import User
from tests.accounts.helpers import PASSWORD

pytestmark = [
    pytest.mark.postgres_only(reason="needs PostgreSQL: run with DATABASE_URL=postgres://…"),
    pytest.mark.django_db(transaction=True),
]

CONTENDERS = 5
REPLAYED = "Cette vérification anti-robot a déjà servi"


def browser(base_url: str) -> tuple[requests.Session, str]:
    """A session holding the CSRF cookie, and the form's token."""
    session = requests.Session()
    page = session.get(f"{base_url}/inscription/?type=particulier", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.status_code
    return session, token.group(1)


def form(token: str, email: str, payload: str) -> dict[str, str]:
    return {
        "csrfmiddlewaretoken": token,
        "account_type": "particulier",
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
        "civilite": "MME",
        "last_name": "Course",
        "first_name": "Alice",
        "phone": "06 12 34 56 78",
        "action": "create",
        "altcha": payload,
    }


def test_one_solution_posted_at_once_by_several_browsers_makes_one_account(live_server):
    base = live_server.url
    challenge = requests.get(f"{base}/inscription/anti-robot/", timeout=30).json()
    payload = altcha.solve(challenge)
    browsers = [browser(base) for _ in range(CONTENDERS)]
    # One of them first has the form shown again (a password typo): the check is kept, unspent.
    session, token = browsers[0]
    typo = {**form(token, "course0@exemple.fr", payload), "password2": "autre chose"}
    shown_again = session.post(f"{base}/inscription/", data=typo, timeout=30)
    assert f'name="altcha" value="{payload}"' in shown_again.text

    barrier = threading.Barrier(CONTENDERS)
    outcomes: list[str] = []

    def post(n: int) -> None:
        session, token = browsers[n]
        try:
            barrier.wait(timeout=10)
            response = session.post(
                f"{base}/inscription/",
                data=form(token, f"course{n}@exemple.fr", payload),
                allow_redirects=False,
                timeout=60,
            )
            if response.status_code == 302:
                outcomes.append("created")
            elif REPLAYED in response.text.replace("&#x27;", "'"):
                outcomes.append("replayed")
            else:
                outcomes.append(f"other: {response.status_code}")
        except Exception as exc:
            outcomes.append(f"error: {exc!r}")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert sorted(outcomes) == ["created"] + ["replayed"] * (CONTENDERS - 1), outcomes
    assert User.objects.filter(email__startswith="course").count() == 1
