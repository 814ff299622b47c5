"""The absolute session timeout: a session ends SESSION_ABSOLUTE_TIMEOUT seconds after login,
however active it stays (the idle timeout is Django's SESSION_COOKIE_AGE, refreshed on every
request by SESSION_SAVE_EVERY_REQUEST)."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in

SESSION_STARTED_KEY = "portail_auth_started_at"


def mark_session_start(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = int(time.time())


user_logged_in.connect(mark_session_start, dispatch_uid="portail.accounts.session_start")


class SessionAbsoluteTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            now = int(time.time())
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - int(started) > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                messages.info(request, "Votre session a expiré : connectez-vous de nouveau.")
        return self.get_response(request)
