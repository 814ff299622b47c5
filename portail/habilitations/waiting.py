"""Has a person anything waiting on "Mes démarches": pending invitations addressed to them,
pending access requests of their own? One plain statement, so that the page reads both lists
only when there is something to show (most visits have neither).

The SQL is written once per database vendor from the models' tables and the backend's own
case-insensitive comparison (what `email__iexact` compiles to): compiling the two ORM queries
cost more than running them. `tests/habilitations/test_waiting.py` checks it against
`Invitation.objects.pending()` and `AccessRequest.objects.pending()` case by case.
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from django.db import connection
from django.utils import timezone

from portail.habilitations.models import AccessRequest, Invitation

if TYPE_CHECKING:
    from portail.accounts.models import User


class Waiting(NamedTuple):
    invitations: bool
    requests: bool


@cache
def _sql(vendor: str) -> str:
    """The statement for `vendor` (its quoting and its `iexact`), built once."""
    q = connection.ops.quote_name
    email = Invitation._meta.get_field("email")
    email_cast = connection.ops.lookup_cast("iexact", email.get_internal_type()) % q("email")
    email_match = connection.operators["iexact"] % "%s"
    invitation = (
        f"SELECT 1 FROM {q(Invitation._meta.db_table)}"
        f" WHERE {q('accepted_at')} IS NULL AND {q('refused_at')} IS NULL"
        f" AND {q('cancelled_at')} IS NULL AND {q('expires_at')} > %s"
        f" AND ({q('invited_user_id')} = %s"
        f" OR ({q('invited_user_id')} IS NULL AND {email_cast} {email_match}))"
    )
    request = (
        f"SELECT 1 FROM {q(AccessRequest._meta.db_table)}"
        f" WHERE {q('requester_id')} = %s AND {q('status')} = %s AND {q('expires_at')} > %s"
    )
    return f"SELECT EXISTS({invitation}), EXISTS({request})"


def waiting_for(user: "User") -> Waiting:
    """Whether `user` has pending invitations (to the account or its email address, as
    `queries.pending_invitations_for`) and pending access requests of their own."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    email = connection.ops.prep_for_iexact_query(user.email)
    params = [now, user.pk, email, user.pk, AccessRequest.Status.PENDING.value, now]
    with connection.cursor() as cursor:
        cursor.execute(_sql(connection.vendor), params)
        invitations, requests = cursor.fetchone()
    return Waiting(bool(invitations), bool(requests))
