"""Request latency and count by view, and the request's id: the outermost middleware, so it
times everything else (one layer for both: each layer costs every request)."""

import time

from django.http import HttpResponseBase

from portail.core.middleware import IdentifiedRequest, RequestIdMiddleware
from portail.metrics import series

# A path no pattern matches (404s, scanners): one label, not one per path.
UNMATCHED = "<unmatched>"


class RequestMetricsMiddleware(RequestIdMiddleware):
    """core's RequestIdMiddleware (the id of the logs, the X-Request-Id header), timed."""

    def __call__(self, request: IdentifiedRequest) -> HttpResponseBase:
        start = time.perf_counter()
        response = super().__call__(request)
        elapsed = time.perf_counter() - start
        match = request.resolver_match
        view = match.view_name if match is not None and match.view_name else UNMATCHED
        method = request.method if request.method in _METHODS else "other"
        series.REQUEST_SECONDS.labels(view=view, method=method).observe(elapsed)
        status = f"{response.status_code // 100}xx"
        series.REQUESTS.labels(view=view, method=method, status=status).inc()
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
