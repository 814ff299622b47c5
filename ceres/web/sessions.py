"""CERES' session store (SESSION_ENGINE): Django's database sessions, each new one written once.

Django's `create()` checks that a fresh key is free, inserts an empty row, and the end of the
request updates it: at every sign-in. Here `create()` only draws the key and the response's save
inserts the row; a key already taken (2^-190) fails that insert and another is drawn. (The
portal's portail.core.sessions does the same; CERES imports nothing from the portal.) A session
is deleted by one statement (Django's reads the row first): at every sign-in, the login's change
of key deletes the session the sign-in started in. And a session is read by a plain statement,
its text made once: every request reads it (the sign-in twice), and building and compiling the
ORM's query cost more than running it.
"""

from functools import cache

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.base_session import AbstractBaseSession
from django.contrib.sessions.models import Session
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from ceres.web.random_strings import random_string


class SessionStore(db.SessionStore):
    _insert_pending = False

    def _get_session_from_db(self) -> AbstractBaseSession | None:
        # Django's, without the ORM: the live row of this key, or None (and no key).
        key = self.session_key
        connection = connections[router.db_for_read(self.model)]
        row = None
        if key is not None:
            with connection.cursor() as cursor:
                now = connection.ops.adapt_datetimefield_value(timezone.now())
                cursor.execute(_select_sql(connection.alias), [key, now])
                row = cursor.fetchone()
        if key is None or row is None:
            self._session_key = None
            return None
        return self.model(session_key=key, session_data=row[0])

    def create(self) -> None:
        self._session_key = random_string(32, VALID_KEY_CHARS)
        self._insert_pending = True
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            self.create()
        while True:
            try:
                if must_create or self._insert_pending:
                    self._insert()
                else:
                    super().save()
            except CreateError:
                if not self._insert_pending:
                    raise
                self._session_key = random_string(32, VALID_KEY_CHARS)
                continue
            self._insert_pending = False
            return

    def _insert(self) -> None:
        """Django's `save(must_create=True)` (the same row, the same statement in a savepoint, a
        taken key its CreateError) without the model's save: its signals, which nothing in CERES
        receives for a session, and the ORM's building and compiling of the INSERT."""
        session = self.create_model_instance(self._get_session(no_load=True))  # type: ignore[attr-defined]
        alias = router.db_for_write(self.model, instance=session)
        connection = connections[alias]
        values = [
            session.session_key,
            session.session_data,
            connection.ops.adapt_datetimefield_value(session.expire_date),
        ]
        try:
            with transaction.atomic(using=alias), connection.cursor() as cursor:
                cursor.execute(_insert_sql(alias), values)
        except IntegrityError as taken:
            raise CreateError from taken

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        # Nothing points at a session row (no relation, no signal): one statement, where Django
        # reads the row first and its queryset's delete() adds a transaction around it.
        connection = connections[router.db_for_write(self.model)]
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE session_key = %s", [session_key])  # noqa: S608


@cache
def _insert_sql(alias: str) -> str:
    """The ORM's INSERT of a session, word for word."""
    quote = connections[alias].ops.quote_name
    columns = ", ".join(quote(name) for name in ("session_key", "session_data", "expire_date"))
    return f"INSERT INTO {quote(Session._meta.db_table)} ({columns}) VALUES (%s, %s, %s)"  # noqa: S608


@cache
def _select_sql(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    table = quote(Session._meta.db_table)
    return (
        f"SELECT {quote('session_data')} FROM {table}"  # noqa: S608
        f" WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s"
    )
