"""Which of the management page's other lists have rows: the open invitations, the pending access
requests, the history of the messages (how many) and the periodic access reviews. One plain
statement, so that the page reads each list only when there is something to show (most pages have
no invitation and no request waiting), and pages the history without a COUNT of its own.

The SQL is written once per database vendor and number of establishments, from the models' tables
and the conditions of `Invitation.objects.open()`, `AccessRequest.objects.pending()`,
`OutboxEmail.objects.about()` and `access_review.summary`'s reviews: compiling the four ORM queries
cost more than running them. `tests/habilitations/test_management_lists.py` checks it against
those query sets case by case.
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)
from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

from django.db import connection
from django.utils import timezone

from portail.habilitations.models import AccessRequest, AccessReview, Invitation
from portail.notifications.models import OutboxEmail


class Lists(NamedTuple):
    invitations: bool
    access_requests: bool
    emails: int
    reviews: bool


def _column(model: Any, name: str) -> str:
    return str(connection.ops.quote_name(model._meta.get_field(name).column))


@cache
def _sql(vendor: str, establishments: int) -> str:
    """The statement for `vendor` and so many establishments, built once."""
    q = connection.ops.quote_name
    in_list = ", ".join(["%s"] * establishments)

    def of_scope(model: Any) -> str:
        return (
            f"SELECT {{what}} FROM {q(model._meta.db_table)}"
            f" WHERE {_column(model, 'demarche_id' if model is OutboxEmail else 'demarche')} = %s"
            f" AND {_column(model, 'establishment_id' if model is OutboxEmail else 'establishment')}"
            f" IN ({in_list})"
        )

    def null(model: Any, *names: str) -> str:
        return " AND ".join(f"{_column(model, name)} IS NULL" for name in names)

    invitations = of_scope(Invitation).format(what="1") + (
        f" AND {null(Invitation, 'accepted_at', 'refused_at', 'cancelled_at')}"
    )
    requests = of_scope(AccessRequest).format(what="1") + (
        f" AND {_column(AccessRequest, 'status')} = %s AND {_column(AccessRequest, 'expires_at')} > %s"
    )
    emails = of_scope(OutboxEmail).format(what="COUNT(*)")
    reviews = of_scope(AccessReview).format(what="1") + (
        f" AND ({_column(AccessReview, 'closed_at')} IS NULL"
        f" OR {_column(AccessReview, 'completed_at')} IS NOT NULL)"
    )
    return f"SELECT EXISTS({invitations}), EXISTS({requests}), ({emails}), EXISTS({reviews})"


def lists_of(demarche_id: int, scope_ids: Sequence[int]) -> Lists:
    """What the lists of `demarche_id` on the establishments `scope_ids` hold."""
    if not scope_ids:
        return Lists(False, False, 0, False)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    scope = [demarche_id, *scope_ids]
    params = [*scope, *scope, AccessRequest.Status.PENDING.value, now, *scope, *scope]
    with connection.cursor() as cursor:
        cursor.execute(_sql(connection.vendor, len(scope_ids)), params)
        invitations, requests, emails, reviews = cursor.fetchone()
    return Lists(bool(invitations), bool(requests), int(emails), bool(reviews))
