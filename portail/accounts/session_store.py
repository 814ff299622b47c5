"""Django's database sessions, keeping "Mes sessions et appareils" pointed at the right row.

`UserSession` is tied to its session row (a one-to-one that cascades). Django changes the key of
a live session (`cycle_key`: at login, at a change of password) by creating a new row and
deleting the old one, which would take the `UserSession` with it: it is moved to the new row
first. SESSION_ENGINE = "portail.accounts.session_store".
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from portail.accounts.models import UserSession


class SessionStore(DatabaseSessionStore):
    def cycle_key(self) -> None:
        # SessionBase.cycle_key, with the move in between.
        data = self._session  # type: ignore[attr-defined]  # SessionBase property, not in the stubs
        key = self.session_key
        self.create()
        self._session_cache = data
        if key:
            UserSession.objects.filter(session_id=key).update(session_id=self.session_key)
            self.delete(key)
