"""Workers delivering logout tokens at the same time, on PostgreSQL: each sent once."""

import threading
from urllib.parse import parse_qs

import jwt
import pytest
from django.db import connection

from portail.oidc import backchannel
from portail.oidc.backchannel import deliver_logouts
from portail.oidc.models import PendingLogout
from portail.oidc.webhooks import signing_key
from tests.oidc.webhook_receiver import Receiver

pytestmark = [
    pytest.mark.postgres_only(
        reason="needs PostgreSQL (row locks): run with DATABASE_URL=postgres://…"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_three_workers_send_each_logout_once(ceres_client):
    receiver = Receiver().start()
    try:
        application = ceres_client.application
        backchannel.set_endpoint(application, receiver.url)
        PendingLogout.objects.bulk_create(
            PendingLogout(application=application, sub=f"sub-{n}", sid=f"sid-{n}")
            for n in range(30)
        )
        signing_key()  # loaded once, before the threads
        barrier = threading.Barrier(3)
        counts: list[dict] = []

        def worker():
            try:
                barrier.wait(timeout=10)
                counts.append(deliver_logouts())
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert sum(c["delivered"] for c in counts) == 30
        sids = [
            jwt.decode(parse_qs(r["body"])["logout_token"][0], options={"verify_signature": False})[
                "sid"
            ]
            for r in receiver.received
        ]
        assert sorted(sids) == sorted(f"sid-{n}" for n in range(30))  # none twice
        assert not PendingLogout.objects.exists()
    finally:
        receiver.stop()
