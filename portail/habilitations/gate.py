"""The second-factor rule of a démarche that `requires_mfa`, for the gestionnaire's pages.

Its gestionnaires have a second factor before the management page opens (they are led to enrol
one), and check it again before a sensitive action (invite, delegate, change a role, revoke,
accept an access request) when the last check is older than 15 minutes. Checked on the server,
in every view, GET and POST: portail.core.strong_auth says how the session signed in.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from portail.core.strong_auth import strong_auth_redirect
from portail.demarches.models import Demarche

View = Callable[..., HttpResponse]


class StrongAuthNeeded(Exception):  # noqa: N818 -- a detour, not an error
    """The démarche wants a second factor (enrolled, or checked again) before this page."""

    def __init__(self, response: HttpResponseRedirect) -> None:
        self.response = response


def strong_auth_gate(view: View) -> View:
    """Show the detour of `StrongAuthNeeded` (enrolment or step-up page) instead of the view."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except StrongAuthNeeded as needed:
            return needed.response

    return wrapped


def check_strong_auth(
    request: HttpRequest, demarche: Demarche, *, step_up: bool, next_url: str = ""
) -> None:
    """A démarche that `requires_mfa`: its gestionnaires have a second factor, checked within
    15 minutes before a sensitive action (`step_up`). Raises StrongAuthNeeded otherwise."""
    check_required(request, demarche.requires_mfa, step_up=step_up, next_url=next_url)


def check_required(
    request: HttpRequest, required: bool, *, step_up: bool, next_url: str = ""
) -> None:
    """The same, when the view knows only whether the démarche requires it."""
    detour = strong_auth_redirect(request, required=required, step_up=step_up, next_url=next_url)
    if detour is not None:
        raise StrongAuthNeeded(detour)
