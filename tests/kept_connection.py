"""Two requests' worth of Django's signals around a statement, as a worker runs them, for
`manage.py shell -c`: prints the vendor, then whether the second request found the first one's
connection (False when the settings close it at the end of each request)."""

KEPT_BETWEEN_REQUESTS = (
    "from django.core import signals; from django.db import connection; "
    "signals.request_started.send(sender=None); connection.cursor().execute('SELECT 1'); "
    "first = connection.connection; signals.request_finished.send(sender=None); "
    "signals.request_started.send(sender=None); "
    "print(connection.vendor, first is not None and connection.connection is first)"
)
