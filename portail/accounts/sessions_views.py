""" "Mes sessions et appareils": the list, ending one session, ending all the others.

Forms carry the `UserSession` id (a UUID), never a session key; the flow checks that it is one of
the signed-in person's sessions (portail.accounts.user_sessions).
"""

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portail.accounts import user_sessions
from portail.accounts.models import User
from portail.core.context import context_of
from portail.core.refusals import refusal_shown


class EndSessionForm(forms.Form):
    session = forms.UUIDField(error_messages={"invalid": user_sessions.NOT_YOURS})


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login required (LoginRequiredMiddleware)
    return request.user


@never_cache
@require_GET
def sessions(request: HttpRequest) -> HttpResponse:
    lines = user_sessions.active_sessions(_user(request), request.session.session_key)
    context = {
        "title": "Mes sessions et appareils",
        "sessions": lines,
        "others": sum(1 for line in lines if not line.current),
    }
    return render(request, "accounts/sessions.html", context)


@require_POST
def end_session(request: HttpRequest) -> HttpResponse:
    form = EndSessionForm(request.POST)
    session_id: uuid.UUID = form.cleaned_data["session"] if form.is_valid() else uuid.UUID(int=0)
    with refusal_shown(request, success="La session a été fermée : ce navigateur est déconnecté."):
        user_sessions.end_session(
            _user(request),
            session_id,
            current_key=request.session.session_key,
            context=context_of(request),
        )
    return redirect("accounts:sessions")


@require_POST
def end_other_sessions(request: HttpRequest) -> HttpResponse:
    ended = user_sessions.end_other_sessions(
        _user(request), current_key=request.session.session_key, context=context_of(request)
    )
    messages.success(
        request,
        f"{ended} autre(s) session(s) fermée(s)."
        if ended
        else "Aucune autre session n'était ouverte.",
    )
    return redirect("accounts:sessions")
