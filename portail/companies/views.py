"""The public SIRET lookup (JSON) the sign-up and back-office forms call as the SIRET is typed."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portail.companies import registry
from portail.companies.limits import LOOKUP_LIMITER
from portail.core.client_ip import client_ip
from portail.core.ratelimit import format_wait


def _error(status: int, message: str, **headers: str) -> JsonResponse:
    response = JsonResponse(
        {"error": message}, status=status, json_dumps_params={"ensure_ascii": False}
    )
    for name, value in headers.items():
        response[name] = value
    return response


@login_not_required
@require_GET
@never_cache
def siret_lookup(request: HttpRequest, siret: str) -> JsonResponse:
    """200 with the establishment, or 400 / 404 / 503 / 429 with a French `error`."""
    ip = client_ip(request)
    wait = LOOKUP_LIMITER.hit(ip)  # every lookup counts
    if wait:
        return _error(
            429,
            f"Trop de recherches de SIRET : réessayez dans {format_wait(wait)}.",
            **{"Retry-After": str(wait)},
        )
    try:
        data = registry.lookup(siret)
    except registry.InvalidSiret as exc:
        return _error(400, exc.message)
    except registry.UnknownSiret as exc:
        return _error(404, exc.message)
    except registry.RegistryUnavailable as exc:
        return _error(503, exc.message)
    return JsonResponse(
        {
            "siret": data.siret,
            "siren": data.siren,
            "name": data.name,
            "address": data.address,
            "postcode": data.postcode,
            "commune": data.commune,
            "is_active": data.is_active,
        },
        json_dumps_params={"ensure_ascii": False},
    )
