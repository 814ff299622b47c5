"""Pages that belong to no feature: home, legal pages, health check, error pages."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portail.core import health

logger = logging.getLogger(__name__)


@login_not_required
def legal_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "core/mentions_legales.html", {"title": "Mentions légales"})


@login_not_required
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibilite.html", {"title": "Accessibilité"})


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """For the load balancer: 200 when the database answers, with the figures the apps register
    (`portail.core.health`)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        figures = health.report()
    except Exception:
        logger.exception("Health check: database unreachable")
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", **figures})


def _error(
    request: HttpRequest, template: str, status: int, *, title: str, **context: object
) -> HttpResponse:
    return render(request, template, {"title": title, **context}, status=status)


@login_not_required
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "core/errors/400.html", 400, title="Requête incorrecte")


@login_not_required
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "core/errors/403.html", 403, title="Accès refusé")


@login_not_required
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "core/errors/404.html", 404, title="Page non trouvée")


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    reference = getattr(request, "id", "-")
    # Django has already logged the traceback (django.request); this line ties it to the page shown.
    logger.error("Server error shown to the user, incident reference %s", reference)
    return _error(
        request, "core/errors/500.html", 500, title="Erreur inattendue", reference=reference
    )


@login_not_required
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(request, "core/errors/csrf.html", 403, title="Session expirée")
