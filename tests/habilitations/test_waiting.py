"""`waiting_for`'s one statement says what the ORM's pending invitations and access requests
say, case by case (it is hand-written SQL: a condition left out would show it here)."""

from datetime import timedelta
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portail.habilitations.models import AccessRequest, Invitation
from portail.habilitations.queries import pending_invitations_for
from portail.habilitations.waiting import waiting_for
from tests.habilitations.factories import ceres, company, person

pytestmark = pytest.mark.django_db

_tokens = count()


def orm(user) -> tuple[bool, bool]:
    return (
        pending_invitations_for(user).exists(),
        AccessRequest.objects.pending().filter(requester=user).exists(),
    )


def invite(email: str, invited_user=None, **fields) -> Invitation:
    demarche, centre, _ = ceres()
    head = company(21, sites=1)[0]
    fields.setdefault("expires_at", timezone.now() + timedelta(days=1))
    return Invitation.objects.create(
        demarche=demarche,
        establishment=head,
        role=centre,
        email=email,
        invited_user=invited_user,
        token_hash=f"hash-{next(_tokens)}",
        **fields,
    )


def ask(requester, **fields) -> AccessRequest:
    demarche, centre, _ = ceres()
    head = company(22, sites=1)[0]
    fields.setdefault("expires_at", timezone.now() + timedelta(days=1))
    return AccessRequest.objects.create(
        requester=requester, demarche=demarche, establishment=head, role=centre, **fields
    )


def test_nothing_waiting_in_one_statement():
    user = person("Nina", "Rien", email="nina@banc.fr")
    with CaptureQueriesContext(connection) as captured:
        assert waiting_for(user) == (False, False)
    assert len(captured.captured_queries) == 1


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda u, o: invite(u.email, invited_user=u), (True, False)),
        (lambda u, o: invite(u.email.upper()), (True, False)),  # to the address, any case
        (lambda u, o: invite("n_na@banc.fr"), (False, False)),  # `_` is no wildcard
        (lambda u, o: invite(u.email, invited_user=o), (False, False)),  # to another account
        (lambda u, o: invite(o.email, invited_user=u), (True, False)),  # to the account
        (lambda u, o: invite(u.email, expires_at=timezone.now()), (False, False)),
        (lambda u, o: invite(u.email, accepted_at=timezone.now()), (False, False)),
        (lambda u, o: invite(u.email, refused_at=timezone.now()), (False, False)),
        (lambda u, o: invite(u.email, cancelled_at=timezone.now()), (False, False)),
        (lambda u, o: ask(u), (False, True)),
        (lambda u, o: ask(o), (False, False)),
        (lambda u, o: ask(u, expires_at=timezone.now() - timedelta(seconds=1)), (False, False)),
        (lambda u, o: ask(u, status=AccessRequest.Status.REFUSED), (False, False)),
        (lambda u, o: (invite(u.email), ask(u)), (True, True)),
    ],
)
def test_the_statement_agrees_with_the_orm(setup, expected):
    user = person("Nina", "Attente", email="nina@banc.fr")
    other = person("Otto", "Autre", email="otto@banc.fr")
    setup(user, other)
    assert waiting_for(user) == expected
    assert orm(user) == expected
