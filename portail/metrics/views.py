import os

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from portail.metrics.access import may_read_metrics
from portail.metrics.collectors import DatabaseFiguresCollector


@login_not_required  # scrapers have no session: the token or the address decides
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. Anyone else gets the portal's 404: the endpoint does not show."""
    if not may_read_metrics(request):
        raise Http404
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Under gunicorn: the series of every worker of this instance, added up.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseFiguresCollector())
    body = generate_latest(registry) + generate_latest(database)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
