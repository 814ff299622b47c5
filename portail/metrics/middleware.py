"""Request latency and count by view: the outermost middleware, so it times everything else."""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from portail.metrics import series

# A path no pattern matches (404s, scanners): one label, not one per path.
UNMATCHED = "<unmatched>"


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        start = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - start
        match = request.resolver_match
        view = match.view_name if match is not None and match.view_name else UNMATCHED
        method = request.method if request.method in _METHODS else "other"
        series.REQUEST_SECONDS.labels(view=view, method=method).observe(elapsed)
        status = f"{response.status_code // 100}xx"
        series.REQUESTS.labels(view=view, method=method, status=status).inc()
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
