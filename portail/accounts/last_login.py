"""`last_login` written at each login by a statement prepared once per database vendor.

Django's `update_last_login` receiver (connected by `django.contrib.auth`) writes it with
`save(update_fields=["last_login"])`, which compiles an UPDATE at every login: 0.86 ms against
0.16 for the same statement written once (in-process, 2,000 each, alternately, load 7).
`AccountsConfig.ready()` connects `write_at_login` in its place, under its `dispatch_uid`: the
same value on the account and in its row, inside the login's transaction; an account of another
model, or one whose row is gone, goes to Django's (which raises as before).
"""

from functools import cache
from typing import Any

from django.contrib.auth.models import update_last_login
from django.db import connection, transaction
from django.utils import timezone

from portail.accounts.models import User


@cache
def _statement(vendor: str) -> str:
    q = connection.ops.quote_name
    meta = User._meta
    last_login = q(meta.get_field("last_login").column)
    return f"UPDATE {q(meta.db_table)} SET {last_login} = %s WHERE {q(meta.pk.column)} = %s"  # noqa: S608


def write_at_login(sender: Any, user: Any, **kwargs: Any) -> None:
    """`django.contrib.auth.models.update_last_login`, for the portal's accounts."""
    if type(user) is not User or user.pk is None:
        update_last_login(sender, user, **kwargs)
        return
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    with (
        transaction.mark_for_rollback_on_error(using=connection.alias),
        connection.cursor() as cursor,
    ):
        cursor.execute(_statement(connection.vendor), [at, user.pk])
        written = cursor.rowcount
    if not written:  # Django's save(update_fields=…) raises DatabaseError: let it
        update_last_login(sender, user, **kwargs)
        return
    user.last_login = now
