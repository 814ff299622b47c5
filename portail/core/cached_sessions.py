"""The session store when a cache server is configured (REDIS_URL): read from the cache, written
through to the database (Django's cached_db), each new session written once (core.sessions)."""

from django.contrib.sessions.backends import cached_db

from portail.core.sessions import DeferredCreate


class SessionStore(DeferredCreate, cached_db.SessionStore):
    """Django's cached_db sessions, each new one written once."""
