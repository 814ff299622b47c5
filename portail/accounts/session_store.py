"""Django's database sessions, each new one written once, with its row of "Mes sessions et appareils".

- **Written once**: Django's `create()` checks that a fresh key is free, inserts an empty row, and
  the end of the request updates it: at every login. Here `create()` only draws the key, and the
  response's save inserts the row; a key already taken (2^-190) fails that insert and another is
  drawn (CERES' `ceres.web.sessions` does the same).
- **The index after its row**: `UserSession` points at its session row (a one-to-one that
  cascades), so the login's `UserSession` waits for that insert: `index_once_written(row)` and
  the response writes both, in one transaction.
- **A change of key**: Django changes the key of a live session (`cycle_key`: at login, at a
  change of password) by creating a new row and deleting the old one, which would take the
  `UserSession` with it: when the session has one, the new row is written at once and the
  `UserSession` moved to it first.
- **Written in the login's transaction**: the login writes its session at once, inside its
  transaction (`accounts.views`, `flows.log_in`), so that its row commits with the login's
  (one commit, no longer two); the response's save then finds the data unchanged since that
  insert and writes nothing (any change since is saved as Django would). Its row is joined to
  the caller's transaction without a savepoint: a key already taken (2^-190) there fails the
  login instead of drawing another.
- **Prepared once**: those two inserts are statements written once (`portail.core.plain_insert`),
  not compiled by the ORM at every login.

- **Read with its account**: loading a session reads its account in the same statement
  (`portail.accounts.session_user`), kept as `account_read` for the authentication middleware.
- **Its signature checked once per row's content**: Django checks the row's signature (a key
  derived by SHA-256, an HMAC), decompresses and decodes it at every request; the same row's
  text, once checked, gives its JSON kept in `_checked` (a row changes at most once a minute,
  `SESSION_REFRESH_INTERVAL`), which each request decodes into its own dictionary. A change of
  `SECRET_KEY` or of its fallbacks forgets them.

SESSION_ENGINE = "portail.accounts.session_store".
"""

import json
from typing import Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.signals import setting_changed
from django.core.signing import JSONSerializer
from django.db import IntegrityError, connection, router, transaction
from django.db.models import Model
from django.utils.crypto import get_random_string

from portail.accounts import session_user
from portail.accounts.models import User, UserSession
from portail.core.plain_insert import insert

# user_sessions.USER_SESSION_KEY (which imports this module's app's models, not this module).
INDEXED_KEY = "portail_user_session"


class SessionStore(DatabaseSessionStore):
    _insert_pending = False
    _index_row: UserSession | None = None
    account_read: User | None = None  # the account indexed with the session, read with it
    _inserted_as: str | None = None  # the data as the insert wrote them (JSON), to save once

    def load(self) -> dict[str, Any]:
        """The session's data (its account kept in `account_read`), in one statement."""
        self.account_read = None
        found = session_user.read(self.session_key) if self.session_key else None
        if found is None:
            self._session_key = None
            return {}
        data, self.account_read = found
        return self.decode(data)

    def decode(self, session_data: bytes | str) -> dict[str, Any]:
        """Django's, the signature checked once per row's text (the module's docstring)."""
        checked = _checked.get(session_data)
        if checked is not None:
            decoded: dict[str, Any] = json.loads(checked)
            return decoded
        decoded = super().decode(session_data)
        if decoded and self.serializer is JSONSerializer:
            if len(_checked) >= _CHECKED_MAX:
                _checked.clear()
            _checked[session_data] = json.dumps(decoded)
        return decoded

    @property
    def insert_pending(self) -> bool:
        """The session's row is not written yet (it will be with the response)."""
        return self._insert_pending

    def index_once_written(self, row: UserSession) -> None:
        """Insert `row` (unsaved, its session not set) right after the session's row."""
        self._index_row = row
        self.modified = True

    def create(self) -> None:
        self._session_key = get_random_string(32, VALID_KEY_CHARS)
        self._insert_pending = True
        self.modified = True

    def flush(self) -> None:
        # A session ended before its insert takes no waiting index row with it.
        self._index_row = None
        self._insert_pending = False
        super().flush()

    def cycle_key(self) -> None:
        # SessionBase.cycle_key, with the move of the index in between.
        if self._insert_pending:
            # Never written (a second change of key in the login's request): a new key, and the
            # waiting index row follows it at the insert.
            self._session_key = get_random_string(32, VALID_KEY_CHARS)
            return
        data = self._session  # type: ignore[attr-defined]  # SessionBase property, not in the stubs
        key = self.session_key
        if key and data.get(INDEXED_KEY):
            DatabaseSessionStore.create(self)  # the row now: the UserSession moves onto it
            self._insert_pending = False
            self._session_cache = data
            UserSession.objects.filter(session_id=key).update(session_id=self.session_key)
        else:
            self.create()
            self._session_cache = data
        if key:
            self.delete(key)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            self.create()
        if not (self._insert_pending or must_create):
            if self._inserted_as is not None and self._inserted_as == self._as_written():
                return  # written by the insert in this request's transaction, unchanged since
            self._inserted_as = None
            super().save()
            return
        for attempt in range(3):  # a key already taken: 2^-190; anything else fails thrice
            try:
                self._insert()
            except CreateError:
                # In the caller's transaction (no savepoint) the error has spoiled it: no retry.
                if not self._insert_pending or attempt == 2 or connection.in_atomic_block:
                    raise
                self._session_key = get_random_string(32, VALID_KEY_CHARS)
                continue
            self._insert_pending = False
            return

    def _insert(self) -> None:
        """The session's row, then its index row if one waits: one transaction."""
        data = self._get_session(no_load=True)  # type: ignore[attr-defined]  # not in the stubs
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        try:
            # Joins the login's transaction when there is one (the module's docstring).
            with transaction.atomic(using=using, savepoint=False):
                self._write(obj, using)
                if self._index_row is not None:
                    self._index_row.session_id = obj.session_key
                    self._write(self._index_row, using)
        except IntegrityError as exc:
            raise CreateError from exc
        self._index_row = None
        # Kept only for the response's save after an insert in the caller's transaction.
        self._inserted_as = self._as_written() if connection.in_atomic_block else None

    def _as_written(self) -> str:
        """The session's data as a comparable text (its values are JSON's: the serializer's)."""
        data = self._get_session(no_load=True)  # type: ignore[attr-defined]  # not in the stubs
        return json.dumps(data, default=repr)

    @staticmethod
    def _write(row: Model, using: str) -> None:
        """`save(force_insert=True)`, by a statement prepared once on the default database."""
        if using == connection.alias:
            insert(row)
        else:
            row.save(force_insert=True, using=using)


# A session row's text whose signature was checked -> its data as JSON (SessionStore.decode).
_checked: dict[bytes | str, str] = {}
_CHECKED_MAX = 2048


def _forget_checked(*, setting: str, **kwargs: object) -> None:
    if setting in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "SESSION_SERIALIZER"):
        _checked.clear()


setting_changed.connect(_forget_checked, dispatch_uid="portail.accounts.session_store.checked")
