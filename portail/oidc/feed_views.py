"""`GET /o/demarches/<code>/habilitation-changes/?after=<cursor>&limit=<n>`: a démarche reads
its feed with its client credentials (HTTP Basic: a GET has no body for client_secret_post).
A client reads its own démarche's feed only."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from portail.demarches.models import Demarche
from portail.oidc.client_auth import authenticated_client, invalid_client
from portail.oidc.feed import PAGE_SIZE, CursorError, page_after, parse_cursor


def _error(code: str, description: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code, "error_description": description}, status=status)


@login_not_required
@require_GET
def habilitation_changes(request: HttpRequest, code: str) -> JsonResponse:
    application = authenticated_client(request)
    if application is None:
        response = invalid_client()
    else:
        demarche = Demarche.objects.filter(code=code).first()
        if demarche is None or demarche.oidc_client_id != application.client_id:
            # The same answer for an unknown démarche and another one's: nothing to learn.
            response = _error(
                "forbidden", "Ce client ne peut lire que le flux de sa propre démarche.", 403
            )
        else:
            response = _page(request, demarche)
    response["Cache-Control"] = "no-store"
    response._csp_exempt = True  # type: ignore[attr-defined]
    return response


def _page(request: HttpRequest, demarche: Demarche) -> JsonResponse:
    limit_raw = request.GET.get("limit", str(PAGE_SIZE))
    if not limit_raw.isdigit() or int(limit_raw) < 1:
        return _error("invalid_request", "limit doit être un entier positif.", 400)
    try:
        cursor = parse_cursor(request.GET.get("after", ""), demarche)
    except CursorError as exc:
        return _error("invalid_cursor", str(exc), 400)
    return JsonResponse(page_after(demarche, cursor, int(limit_raw)).as_json())
