"""Session timeouts.

- Idle: a session ends SESSION_COOKIE_AGE seconds (30 min) after it was last saved. Saving it
  on every request (Django's SESSION_SAVE_EVERY_REQUEST) costs three queries per page; it is
  saved again only once its last save is SESSION_REFRESH_INTERVAL seconds old (60), so the idle
  timeout holds to within that minute.
- Absolute: a signed-in session ends SESSION_ABSOLUTE_TIMEOUT seconds (12 h) after login, however
  active it stays.
"""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse

from portail.core.people_middleware import is_machine_request

SESSION_STARTED_KEY = "portail_auth_started_at"
SESSION_SAVED_KEY = "portail_saved_at"


def mark_session_start(
    sender: type[Any], request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_STARTED_KEY] = now
        request.session[SESSION_SAVED_KEY] = now


user_logged_in.connect(mark_session_start, dispatch_uid="portail.accounts.session_start")


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_machine_request(request):  # a machine's request keeps no session alive
            return self.get_response(request)
        session = request.session
        now = int(time.time())
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = session.get(SESSION_STARTED_KEY)
            if started is None:
                session[SESSION_STARTED_KEY] = now
            elif now - int(started) > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                messages.info(request, "Votre session a expiré : connectez-vous de nouveau.")
                return self.get_response(request)
        saved = session.get(SESSION_SAVED_KEY)  # loads the session (a stale key becomes None)
        stale = saved is None or now - int(saved) >= settings.SESSION_REFRESH_INTERVAL
        if stale and not session.is_empty():
            # A modified session is saved with the response, with a new expiry (and cookie).
            session[SESSION_SAVED_KEY] = now
        return self.get_response(request)
