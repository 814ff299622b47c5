"""CERES' session store (SESSION_ENGINE): Django's database sessions, each new one written once.

Django's `create()` checks that a fresh key is free, inserts an empty row, and the end of the
request updates it: at every sign-in. Here `create()` only draws the key and the response's save
inserts the row; a key already taken (2^-190) fails that insert and another is drawn. (The
portal's portail.core.sessions does the same; CERES imports nothing from the portal.) A session
is deleted by one statement (Django's reads the row first): at every sign-in, the login's change
of key deletes the session the sign-in started in.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.db import connections, router
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    _insert_pending = False

    def create(self) -> None:
        self._session_key = get_random_string(32, VALID_KEY_CHARS)
        self._insert_pending = True
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            self.create()
        while True:
            try:
                super().save(must_create=must_create or self._insert_pending)
            except CreateError:
                if not self._insert_pending:
                    raise
                self._session_key = get_random_string(32, VALID_KEY_CHARS)
                continue
            self._insert_pending = False
            return

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
