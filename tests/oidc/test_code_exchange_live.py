"""One authorization code sent to the token endpoint by many requests at once (threads against a
live server, PostgreSQL): at most one gets tokens, and none stay usable once a replay is seen
(RFC 6749 §10.5; portail.oidc.code_exchange then code_rows)."""

import threading

import pytest
import requests
from django.db import connection
from oauth2_provider.models import AccessToken

from portail.oidc.models import UsedAuthorizationCode
from tests.factories import UserFactory
from tests.oidc.helpers import basic_auth

pytestmark = [
    pytest.mark.postgres_only(
        reason="needs PostgreSQL (live server threads, row locks): DATABASE_URL=postgres://…"
    ),
    pytest.mark.django_db(transaction=True),
]

REQUESTS = 12


def test_one_code_exchanged_at_once_by_many_gives_tokens_once(live_server, client, flow):
    client.force_login(UserFactory())
    code = flow.get_code(client)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.redirect_uri,
        "code_verifier": flow.verifier,
    }
    headers = {"Authorization": basic_auth(flow.client_id, flow.secret)}
    barrier = threading.Barrier(REQUESTS)
    answers: list[tuple[int, dict]] = []

    def exchange() -> None:
        try:
            barrier.wait(timeout=30)
            response = requests.post(
                f"{live_server.url}/o/token/", data=data, headers=headers, timeout=30
            )
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=exchange) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == REQUESTS
    successes = [body for status, body in answers if status == 200]
    assert len(successes) <= 1
    assert all(body["error"] == "invalid_grant" for status, body in answers if status != 200)
    assert UsedAuthorizationCode.objects.count() == 1
    # The others were replays of the code: whatever the one success issued is revoked.
    assert not AccessToken.objects.exists()
