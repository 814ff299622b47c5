"""`POST /portail/deconnexion/`: the portal's logout tokens (ceres.web.backchannel).

Back-Channel Logout 1.0 §2.8: 200 once the sessions ended, 400 with a JSON error for a token
refused (nothing ended); never cached.
"""

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ceres.web.backchannel import RejectedLogoutError, end_sessions, verified_logout

log = logging.getLogger(__name__)

MAX_TOKEN = 16 * 1024


@csrf_exempt  # machine to machine: the signature, not a cookie, proves who sends
@login_not_required
@never_cache
@require_POST
def backchannel_logout(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("logout_token", "")
    try:
        if not token or len(token) > MAX_TOKEN:
            raise RejectedLogoutError("no logout_token")
        ended = end_sessions(verified_logout(token))
    except RejectedLogoutError as exc:
        log.warning("Logout token rejected: %s", exc)
        return JsonResponse(
            {"error": "invalid_request", "error_description": "logout token rejected"},
            status=400,
        )
    log.info("Back-channel logout: %d session(s) ended", ended)
    return HttpResponse(status=200)
