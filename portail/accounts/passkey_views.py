"""Passkey ceremonies of the pages (JSON, called by accounts/js/passkeys.js): registration from
"Double authentification", and the check — second step of the login, login with the key alone
("Se connecter avec une clé d'accès"), step-up, proof before removing the last factor.

Each ceremony draws a challenge kept in the session for PENDING seconds and used once.
"""

import time
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from portail.accounts import mfa, passkeys
from portail.accounts.mfa_forms import PasskeyNameForm
from portail.accounts.mfa_views import (
    CODES_KEY,
    FACTOR_PER_ACCOUNT,
    PENDING_KEY,
    complete_login,
    factors_url,
    pending_user,
    safe_next,
    with_browser_cookie,
)
from portail.accounts.models import User
from portail.core import ratelimit, strong_auth
from portail.core.context import context_of
from portail.core.ratelimit import Limiter, format_wait
from portail.core.refusals import Refusal

CHALLENGE_KEY = "accounts_webauthn_challenge"
CHALLENGE_SECONDS = 3 * 60
PURPOSES = ("register", "login", "passwordless", "step_up", "removal")
# Logins with a key alone, per address: the account is not known before the key answers.
PASSWORDLESS_PER_IP = Limiter(
    "passkey-login-ip",
    label="Connexion par clé d'accès depuis cette adresse IP suspendue après trop d'échecs",
    limit=30,
    window=15 * 60,
    base_wait=60,
)
NO_STEP = "Le délai est dépassé : recommencez."


def _error(message: str, status: int = 400, field: str = "") -> JsonResponse:
    return JsonResponse({"error": message, "field": field}, status=status)


def _store(request: HttpRequest, purpose: str, challenge: bytes) -> None:
    request.session[CHALLENGE_KEY] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "at": time.time(),
    }


def _take(request: HttpRequest, purpose: str) -> bytes | None:
    """The challenge drawn for `purpose`, once; None if none is pending or it is too old."""
    stored: dict[str, Any] = request.session.pop(CHALLENGE_KEY, None) or {}
    if stored.get("purpose") != purpose or time.time() - stored.get("at", 0) > CHALLENGE_SECONDS:
        return None
    return base64url_to_bytes(stored["challenge"])


def _signed_in(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _account_for(request: HttpRequest, purpose: str) -> User | None:
    """The account a check must belong to: the pending login's, or the signed-in person's."""
    if purpose == "login":
        return pending_user(request)
    return _signed_in(request)


@login_not_required
@never_cache
@require_GET
def passwordless(request: HttpRequest) -> HttpResponse:
    """ "Se connecter avec une clé d'accès": the key alone, without the password."""
    next_url = safe_next(request, request.GET.get("next", ""))
    if _signed_in(request) is not None:
        return redirect(next_url or "demarches:mes_demarches")
    context = {
        "title": "Se connecter avec une clé d'accès",
        "next_url": next_url,
        "passkey_purpose": "passwordless",
    }
    return render(request, "accounts/passkey_login.html", context)


@login_not_required
@never_cache
@require_POST
def options(request: HttpRequest, purpose: str) -> HttpResponse:
    """The options of the browser's ceremony for `purpose`, with a fresh challenge."""
    if purpose not in PURPOSES:
        return _error("Opération inconnue.", 404)
    if purpose == "passwordless":
        if _signed_in(request) is not None:
            return _error("Vous êtes déjà connecté.", 409)
        body, challenge = passkeys.authentication_options(None)
    else:
        user = _account_for(request, purpose)
        if user is None:
            return _error(NO_STEP, 403)
        make = passkeys.registration_options if purpose == "register" else None
        body, challenge = make(user) if make else passkeys.authentication_options(user)
    _store(request, purpose, challenge)
    return HttpResponse(body, content_type="application/json")


@never_cache
@require_POST
def register(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    assert user is not None  # LoginRequiredMiddleware
    form = PasskeyNameForm(request.POST)
    if not form.is_valid():
        return _error(str(form.errors["name"][0]), field="name")
    challenge = _take(request, "register")
    if challenge is None:
        return _error(NO_STEP)
    try:
        codes = passkeys.add_passkey(
            user,
            request.POST.get("credential", ""),
            challenge,
            form.cleaned_data["name"],
            context=context_of(request),
        )
    except Refusal as refusal:
        return _error(refusal.message, field=refusal.field or "")
    strong_auth.record_step_up(request, "hwk")
    if codes:
        request.session[CODES_KEY] = codes
    next_url = safe_next(request, request.POST.get("next", ""))
    return JsonResponse({"redirect": factors_url(next_url)})


def _slot(limiter: Limiter, subject: str) -> ratelimit.Attempt | JsonResponse:
    """A slot taken before the key is checked: assertions sent at once count each (decision
    0012); or the refusal to send."""
    try:
        slot = ratelimit.attempt((limiter, subject))
    except ratelimit.LimitsUnavailable as unavailable:
        return _error(unavailable.message, 503)
    if slot.wait:
        return _error(f"Trop de tentatives. Réessayez dans {format_wait(slot.wait)}.", 429)
    return slot


@login_not_required
@never_cache
@require_POST
def check(request: HttpRequest, purpose: str) -> HttpResponse:
    if purpose not in PURPOSES[1:]:
        return _error("Opération inconnue.", 404)
    user = None if purpose == "passwordless" else _account_for(request, purpose)
    if purpose != "passwordless" and user is None:
        return _error(NO_STEP, 403)
    limiter, subject = (
        (PASSWORDLESS_PER_IP, context_of(request).ip or "-")
        if user is None
        else (FACTOR_PER_ACCOUNT, str(user.pk))
    )
    slot = _slot(limiter, subject)
    if isinstance(slot, JsonResponse):
        return slot
    challenge = _take(request, purpose)
    if challenge is None:
        slot.succeeded()
        return _error(NO_STEP)
    try:
        checked = passkeys.check_passkey(
            request.POST.get("credential", ""),
            challenge,
            user=user,
            purpose=purpose,
            context=context_of(request),
        )
    except mfa.WrongCode as refusal:
        slot.failed()
        return _error(refusal.message)
    slot.succeeded()
    answer = JsonResponse({"redirect": _after_check(request, purpose, checked)})
    return with_browser_cookie(request, answer)


def _after_check(request: HttpRequest, purpose: str, checked: passkeys.Checked) -> str:
    """Where the person goes once the key answered: signed in, stepped up, or the key removed."""
    next_url = safe_next(request, request.POST.get("next", ""))
    if purpose == "login":
        return complete_login(request, checked.user, ["pwd", *checked.amr], factor=True)
    if purpose == "passwordless":
        request.session[PENDING_KEY] = {"next": next_url}  # where complete_login goes
        return complete_login(request, checked.user, checked.amr, factor=True)
    strong_auth.record_step_up(request, checked.amr[0])
    FACTOR_PER_ACCOUNT.reset(str(checked.user.pk))
    if purpose == "removal":
        pk = request.POST.get("remove", "")
        if pk.isdigit() and checked.user.passkeys.filter(pk=int(pk)).exists():
            mfa.remove_factor(
                checked.user, "passkey", int(pk), proved=True, context=context_of(request)
            )
        return reverse("accounts:mfa")
    return next_url or reverse("demarches:mes_demarches")
