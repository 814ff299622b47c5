"""`POST /portail/evenements/`: the portal pushes CERES each change of habilitation (ceres.web.feed).

Answers 204 once the event is applied (or was already: the portal may deliver twice), 400 for
anything not signed by the portal for CERES (nothing is applied).
"""

import logging

import requests
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ceres.web.feed import RejectedEventError, receive, verified_event

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


@csrf_exempt  # machine to machine: the signature, not a cookie, proves who sends
@login_not_required
@require_POST
def portal_events(request: HttpRequest) -> HttpResponse:
    if len(request.body) > MAX_BODY:
        return JsonResponse({"error": "payload_too_large"}, status=413)
    try:
        event = verified_event(
            request.body.decode("ascii", "replace").strip(),
            request.headers.get("Idempotency-Key", ""),
        )
    except RejectedEventError as exc:
        log.warning("Portal event rejected: %s", exc)
        return JsonResponse({"error": "invalid_event"}, status=400)
    try:
        receive(event)
    except requests.RequestException as exc:
        # The catch-up could not read the feed: not acknowledged, the portal will retry.
        log.warning("Catch-up failed: %s", type(exc).__name__)
        return JsonResponse({"error": "catch_up_failed"}, status=503)
    return HttpResponse(status=204)
