"""Guesses sent at once to a live server (threads, PostgreSQL; the limits in the database and in
Redis): at most the limit gets checked — passwords per account, activation codes per SIRET —
and a flood of sign-ups from one address creates no more accounts than its limit."""

import re
import threading

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from portail.accounts import altcha
from portail.accounts.limits import LOGIN_PER_ACCOUNT, SIGNUP_PER_IP
from portail.accounts.models import User
from portail.audit.models import AuditEvent
from portail.demarches.catalogue import CERES, install_catalogue
from portail.demarches.codes import format_code, generate_code
from portail.demarches.models import Demarche, Role
from portail.habilitations.limits import activation_siret_limiter
from tests.accounts.helpers import signup_data
from tests.counting_hasher import CountingHasher
from tests.demarches.factories import issued_code
from tests.factories import EstablishmentFactory, UserFactory

pytestmark = [
    pytest.mark.postgres_only(
        reason="needs PostgreSQL (live server threads, row locks): DATABASE_URL=postgres://…"
    ),
    pytest.mark.django_db(transaction=True),
]

GUESSES = 50
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def ready_session(url: str, cookies: dict[str, str] | None = None) -> tuple[requests.Session, str]:
    """A browser-like session that has loaded the form at `url`: (session, CSRF token)."""
    session = requests.Session()
    session.cookies.update(cookies or {})
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.status_code
    return session, CSRF.search(page.text).group(1)


def all_at_once(posts) -> list[int]:
    """Run the `posts` (callables returning a status) from threads released together."""
    barrier = threading.Barrier(len(posts))
    statuses: list[int] = []

    def run(post):
        try:
            barrier.wait(timeout=30)
            statuses.append(post())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(post,)) for post in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_fifty_wrong_passwords_at_once_get_at_most_the_limit_checked(
    live_server, limits_store, settings
):
    settings.PASSWORD_HASHERS = [
        "tests.counting_hasher.CountingHasher",
        *django_settings.PASSWORD_HASHERS,
    ]
    UserFactory(email="cible@exemple.fr")  # its password hashed (and checked) by CountingHasher
    CountingHasher.checks = 0
    login_url = f"{live_server.url}/"
    sessions = [ready_session(login_url) for _ in range(GUESSES)]

    def guess(session: requests.Session, token: str, n: int):
        def post() -> int:
            data = {
                "email": "cible@exemple.fr",
                "password": f"essai {n}",
                "csrfmiddlewaretoken": token,
            }
            response = session.post(login_url, data=data, timeout=60, allow_redirects=False)
            session.close()
            return response.status_code

        return post

    statuses = all_at_once([guess(s, t, n) for n, (s, t) in enumerate(sessions)])

    assert len(statuses) == GUESSES
    assert 1 <= CountingHasher.checks <= LOGIN_PER_ACCOUNT.limit, CountingHasher.checks
    assert statuses.count(200) == CountingHasher.checks  # "incorrect": a password was checked
    assert statuses.count(429) == GUESSES - CountingHasher.checks  # "Trop de tentatives"
    failures = AuditEvent.objects.filter(action="account.login_failed")
    assert failures.filter(data__reason="credentials").count() == CountingHasher.checks
    # The account waits now; the right password is refused too (never checked) until it ends.
    assert LOGIN_PER_ACCOUNT.is_blocked("cible@exemple.fr")


def test_fifty_wrong_codes_at_once_for_one_siret_get_at_most_the_limit_checked(
    live_server, limits_store
):
    install_catalogue(Demarche, Role)
    ceres = Demarche.objects.get(code=CERES)
    establishment = EstablishmentFactory()
    issued_code(ceres, establishment)  # the right code exists; nobody sends it
    # Ten people (the limit per person does not bind: 5 guesses each), one SIRET.
    people = [UserFactory() for _ in range(10)]
    url = live_server.url + reverse("demarches:activate", args=[ceres.code])
    posts = []
    for person in people:
        client_cookie = portal_session(person)
        for _ in range(GUESSES // len(people)):
            session, token = ready_session(url, client_cookie)
            posts.append(wrong_code_post(session, token, url, establishment.siret))

    statuses = all_at_once(posts)

    assert len(statuses) == GUESSES
    assert set(statuses) == {200}, statuses  # the form shown again, with its message
    checked = AuditEvent.objects.filter(action="demarche.activation_failed").count()
    blocked = AuditEvent.objects.filter(action="demarche.activation_blocked").count()
    assert 1 <= checked <= activation_siret_limiter.limit, checked
    assert checked + blocked == GUESSES
    assert activation_siret_limiter.is_blocked(establishment.siret)


def portal_session(user) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value}


def wrong_code_post(session: requests.Session, token: str, url: str, siret: str):
    def post() -> int:
        data = {"siret": siret, "code": format_code(generate_code()), "csrfmiddlewaretoken": token}
        response = session.post(url, data=data, timeout=60, allow_redirects=False)
        session.close()
        return response.status_code

    return post


def test_a_flood_of_sign_ups_from_one_address_gets_no_more_than_the_limit(
    live_server, limits_store
):
    url = f"{live_server.url}/inscription/"
    flood = SIGNUP_PER_IP.limit + 10
    posts = []
    for n in range(flood):
        session, token = ready_session(f"{url}?type=particulier")
        challenge = session.get(f"{live_server.url}/inscription/anti-robot/", timeout=30).json()
        data = {
            **signup_data(None, altcha=altcha.solve(challenge)),
            "account_type": "particulier",
            "email": f"robot{n}@exemple.fr",
            "csrfmiddlewaretoken": token,
        }
        posts.append(sign_up_post(session, url, data))

    statuses = all_at_once(posts)

    created = User.objects.filter(email__startswith="robot").count()
    assert 1 <= created <= SIGNUP_PER_IP.limit, created
    assert statuses.count(302) == created
    assert statuses.count(429) == flood - created


def sign_up_post(session: requests.Session, url: str, data: dict[str, str]):
    def post() -> int:
        response = session.post(url, data=data, timeout=60, allow_redirects=False)
        session.close()
        return response.status_code

    return post
