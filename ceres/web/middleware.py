"""CERES' middleware: an anonymous person sent straight to the portal; habilitations re-read.

`LoginRequired`: Django's LoginRequiredMiddleware sends an anonymous person to LOGIN_URL
(/oidc/authenticate/?next=…), which only answers with the redirect to the portal: a request of
its own at every entry. Here a GET is answered with that redirect at once (ceres.web.sign_in:
the same state, nonce and PKCE in the session, the same `next` check); any other method, or a
view with a login URL of its own, goes Django's way.

`HabilitationsRefresh`: habilitations re-read from the portal at least every
CERES_RECHECK_SECONDS (10 minutes). mozilla-django-oidc's SessionRefresh sends the person, once
the delay is over, through a silent authorization request (prompt=none): the portal answers at
once with a new code while its own session lives, and the callback reads the claims again — a
revoked habilitation is gone. When the portal session has ended, the portal answers
login_required and CERES signs the person out.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponseRedirect
from mozilla_django_oidc.middleware import SessionRefresh

from ceres.web import sign_in


class LoginRequired(LoginRequiredMiddleware):
    def handle_no_permission(
        self, request: HttpRequest, view_func: Callable[..., Any]
    ) -> HttpResponseRedirect:
        own_login = getattr(view_func, "login_url", None)
        if request.method != "GET" or (own_login and own_login != settings.LOGIN_URL):
            response: HttpResponseRedirect = super().handle_no_permission(request, view_func)
            return response
        next_url = sign_in.safe_next(request, request.get_full_path())
        return sign_in.authorization_redirect(request, next_url, {})


class HabilitationsRefresh(SessionRefresh):
    def is_refreshable_url(self, request: HttpRequest) -> bool:
        if request.path.startswith("/static/"):
            return False
        return bool(super().is_refreshable_url(request))
