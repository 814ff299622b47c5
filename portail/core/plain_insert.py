"""A new row written by a statement prepared once per model and database vendor.

`Model.objects.create()` builds and compiles an INSERT query at every call: for the journal's
lines and the outbox's emails (three rows in a login from a new browser) that compiling cost
more than the insert itself. `insert(instance)` does what `save()` does for a new row of a plain
model — the `pre_save` and `post_save` signals (the metrics count the journal's lines with
them), each field's `pre_save` (`auto_now_add`) and database preparation, the primary key read
back, the transaction marked for rollback on an error — with `INSERT … RETURNING` written once.
A model whose key Python sets (a UUID, Django's session key: no auto field) is inserted
with its key and nothing read back — the login's session row and its `UserSession`. A model it
does not cover (inherited, an auto key already set, a field with its own placeholder, a database
without RETURNING for an auto key) goes to `save(force_insert=True)`.
`tests/core/test_plain_insert.py` compares the rows with the ORM's.
"""

from functools import cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save


@cache
def _statement(model: type[Model], vendor: str) -> tuple[str, list["Field[Any, Any]"]] | None:
    """The INSERT of `model` for `vendor` and the fields it writes, in order (with the key when
    Python sets it; else the auto key is read back); None when the ORM must write it."""
    meta = model._meta
    if meta.parents or meta.proxy:
        return None
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    if any(hasattr(f, "get_placeholder") for f in fields):
        return None
    returning = ""
    if meta.auto_field is not None:
        if not connection.features.can_return_columns_from_insert:
            return None
        returning, _ = connection.ops.return_insert_columns([meta.auto_field])
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {q(meta.db_table)} ({columns}) VALUES ({values})"  # noqa: S608
    return (f"{sql} {returning}" if returning else sql), fields


def insert(instance: Model) -> None:
    """Insert `instance`, a new row, as `instance.save(force_insert=True)` would."""
    model = type(instance)
    auto_key = model._meta.auto_field is not None
    # An auto key is read back (none set yet); a key Python sets is written (set already).
    wanted = instance.pk is None if auto_key else instance.pk is not None
    prepared = _statement(model, connection.vendor) if wanted else None
    if prepared is None:
        instance.save(force_insert=True)
        return
    sql, fields = prepared
    using = connection.alias
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    with transaction.mark_for_rollback_on_error(using=using):
        params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if auto_key:
                instance.pk = cursor.fetchone()[0]
    instance._state.db = using
    instance._state.adding = False
    post_save.send(
        sender=model, instance=instance, created=True, update_fields=None, raw=False, using=using
    )
