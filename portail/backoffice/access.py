"""Who may see the agents' pages: an active user with an agent profile and a session verified by
a second factor (TOTP, or a passkey).

Everybody else — anonymous visitors, portal users, agents who have not passed the second factor —
gets a 404, as if the pages did not exist. The check runs on the server for every view.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponseBase

from portail.accounts.models import User
from portail.backoffice.models import AgentProfile
from portail.core import strong_auth


class AgentRequest(HttpRequest):
    """The request of an agents' view, as `agent_required` lets it through."""

    user: User
    agent: AgentProfile


def agent_profile_of(user: Any) -> AgentProfile | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    try:
        profile: AgentProfile = user.agent_profile
    except AgentProfile.DoesNotExist:
        return None
    return profile


def is_verified_agent(request: HttpRequest) -> bool:
    user = request.user
    if agent_profile_of(user) is None:
        return False
    is_verified = getattr(user, "is_verified", None)  # set by django_otp's OTPMiddleware
    # Or a session opened with a second factor on the portal's side (an agent's passkey, with
    # the gesture that unlocks it): portail.core.strong_auth says so.
    return bool(is_verified and is_verified()) or "mfa" in strong_auth.amr_of(request)


View = Callable[..., HttpResponseBase]


def agent_required(view: View) -> View:
    """Decorate an agents' view: 404 unless a verified agent; sets `request.agent`."""

    @login_not_required  # anonymous visitors get the 404 too, not a redirect to the login
    @wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_verified_agent(request):
            raise Http404
        request.agent = request.user.agent_profile
        return view(request, *args, **kwargs)

    return wrapper
