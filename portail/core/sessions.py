"""The session store (SESSION_ENGINE): Django's database sessions, each new one written once.

Django's `create()` checks that a fresh key is free (a SELECT), inserts an empty row at once
(in its own transaction), and the end of the request updates that row with the session's data:
four statements at every login. Here `create()` only draws the key, and the row is inserted
when the response saves the session. A key already taken (2^-190) fails that insert and the
next key is drawn, as Django does. `portail.core.cached_sessions` is the same over the cache.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.utils.crypto import get_random_string


class DeferredCreate(db.SessionStore):
    """Database sessions whose `create()` writes nothing (a base for cached_db's too)."""

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


class SessionStore(DeferredCreate):
    """Django's database sessions, each new one written once."""
