"""Second-factor pages: the login's second step, the step-up of a sensitive action, and
"Double authentification" in "Mon compte" (TOTP apps, passkeys, recovery codes).

After the password, an account with a factor is not logged in: the session holds a short-lived
"pending" mark (the account, the time, where to go next) until a factor is checked. Then the
session remembers how the person signed in and when the factor was checked
(`portail.core.strong_auth`), for the ID token's `amr` and for the step-up.
"""

import time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from portail.accounts import flows, mfa, user_sessions
from portail.accounts.forms import Form
from portail.accounts.mfa_forms import CodeForm, OptionalCodeForm, TotpAddForm
from portail.accounts.models import User
from portail.core import ratelimit, strong_auth
from portail.core.context import context_of
from portail.core.ratelimit import Limiter, format_wait
from portail.core.refusals import Refusal, refusal_shown

# Second-factor guesses, per account: growing waits, never a permanent lock.
FACTOR_PER_ACCOUNT = Limiter(
    "mfa-account",
    label="Vérification en deux étapes suspendue après plusieurs codes erronés",
    limit=5,
    window=15 * 60,
    base_wait=60,
    fails_closed=True,  # a guessable code: never checked unlimited when Redis is down
)
PENDING_KEY = "accounts_mfa_pending"
PENDING_SECONDS = 5 * 60
TOTP_KEY = "accounts_mfa_new_totp"
CODES_KEY = "accounts_mfa_new_codes"
EXPIRED_STEP = "Le délai de connexion est dépassé : saisissez de nouveau votre mot de passe."


def safe_next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _next(request: HttpRequest) -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next", ""))


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # LoginRequiredMiddleware
    return request.user


def _reserved(user: User, form: Form) -> ratelimit.Attempt | None:
    """A slot on the account's limit, taken before the code is checked so that guesses sent at
    once count each (decision 0012); None, with the wait on the form, while the account must
    wait or the limits cannot be counted."""
    try:
        slot = ratelimit.attempt((FACTOR_PER_ACCOUNT, str(user.pk)))
    except ratelimit.LimitsUnavailable as refusal:
        form.add_error("code", refusal.message)
        return None
    if slot.wait:
        form.add_error("code", f"Trop de tentatives. Réessayez dans {format_wait(slot.wait)}.")
        return None
    return slot


def _counted(slot: ratelimit.Attempt, refusal: Refusal | None) -> None:
    """A wrong code keeps its slot; any other outcome gives it back."""
    if isinstance(refusal, mfa.WrongCode):
        slot.failed()
    else:
        slot.succeeded()


# --- the login's second step --------------------------------------------------------------------


def begin_second_step(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """The password was right and the account has a factor: ask for it (not logged in yet)."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {"user": user.pk, "at": time.time(), "next": next_url}
    # `next` in the address too: the page's form-action may then lead on to a démarche
    # (portail.oidc.middleware); the session's copy is the one followed.
    url = reverse("accounts:second_step")
    return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)


def pending_user(request: HttpRequest) -> User | None:
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return User.objects.filter(pk=pending["user"], is_active=True).first()


BROWSER_COOKIE_ATTR = "portail_browser_cookie"


def with_browser_cookie(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The response of a completed login gives the browser its cookie (user_sessions)."""
    token = getattr(request, BROWSER_COOKIE_ATTR, "")
    if token:
        user_sessions.remember_browser(response, token)
    return response


def complete_login(request: HttpRequest, user: User, amr: list[str], *, factor: bool) -> str:
    """Open the session (journaled by `flows.log_in`) and remember how; returns where to go."""
    pending = request.session.pop(PENDING_KEY, None) or {}

    def open_session() -> None:
        # The session written in the login's transaction, as after a password-only login.
        login(request, user)
        strong_auth.record_login(request, amr, factor=factor)
        request.session.save()

    # A browser new for this account: its owner is told, as after a password-only login.
    token = flows.log_in(
        user,
        open_session,
        browser=user_sessions.browser_token(request),
        context=context_of(request),
    )
    setattr(request, BROWSER_COOKIE_ATTR, token)  # the cookie goes with the response
    FACTOR_PER_ACCOUNT.reset(str(user.pk))
    next_url: str = safe_next(request, pending.get("next", "")) or reverse(
        "demarches:mes_demarches"
    )
    return next_url


@login_not_required
@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def second_step(request: HttpRequest) -> HttpResponse:
    user = pending_user(request)
    if user is None:
        messages.error(request, EXPIRED_STEP)
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (slot := _reserved(user, form)):
        with refusal_shown(request, form) as attempt:
            method = mfa.check_code(
                user, form.cleaned_data["code"], purpose="login", context=context_of(request)
            )
            url = complete_login(request, user, ["pwd", method], factor=True)
            return with_browser_cookie(request, redirect(url))
        _counted(slot, attempt.refusal)
    context = {
        "title": "Vérification en deux étapes",
        "form": form,
        "step_up": False,
        "has_passkey": mfa.factors_of(user).passkeys != [],
        "passkey_purpose": "login",
        "next_url": (request.session.get(PENDING_KEY) or {}).get("next", ""),
    }
    return render(request, "accounts/mfa_check.html", context)


# --- step-up ------------------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    """Check the factor again before a sensitive action, then go back to it (`next`)."""
    user = _user(request)
    next_url = _next(request) or reverse("demarches:mes_demarches")
    if not mfa.has_second_factor(user):
        return redirect(factors_url(next_url))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (slot := _reserved(user, form)):
        with refusal_shown(request, form) as attempt:
            method = mfa.check_code(
                user, form.cleaned_data["code"], purpose="step_up", context=context_of(request)
            )
            strong_auth.record_step_up(request, method)
            FACTOR_PER_ACCOUNT.reset(str(user.pk))
            return redirect(next_url)
        _counted(slot, attempt.refusal)
    context = {
        "title": "Confirmez votre identité",
        "form": form,
        "next_url": next_url,
        "step_up": True,
        "has_passkey": mfa.factors_of(user).passkeys != [],
        "passkey_purpose": "step_up",
    }
    return render(request, "accounts/mfa_check.html", context)


# --- "Double authentification" -------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD"])
def factors(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = {
        "title": "Double authentification",
        "factors": mfa.factors_of(user),
        "next_url": _next(request),
        "new_codes": request.session.pop(CODES_KEY, None),
    }
    return render(request, "accounts/mfa.html", context)


def factors_url(next_url: str = "") -> str:
    """ "Double authentification", with where to go once a factor is there."""
    url = reverse("accounts:mfa")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _back_to_factors(request: HttpRequest, next_url: str = "") -> HttpResponse:
    return redirect(factors_url(next_url))


def _after_enrolment(request: HttpRequest, codes: list[str], next_url: str) -> HttpResponse:
    """The enrolment checked the new factor: it counts as a check for the step-up."""
    strong_auth.record_step_up(request, "otp")
    if codes:  # shown once, on the next page
        request.session[CODES_KEY] = codes
    return _back_to_factors(request, next_url)


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def totp_add(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    next_url = _next(request)
    key = request.session.get(TOTP_KEY)
    if request.method != "POST" or not key:
        key = request.session[TOTP_KEY] = mfa.new_totp_key()
    form = TotpAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (slot := _reserved(user, form)):
        with refusal_shown(
            request, form, success="Application d'authentification ajoutée."
        ) as attempt:
            codes = mfa.add_totp(
                user,
                key,
                form.cleaned_data["code"],
                form.cleaned_data["name"],
                context=context_of(request),
            )
            request.session.pop(TOTP_KEY, None)
            slot.succeeded()
            return _after_enrolment(request, codes, next_url)
        _counted(slot, attempt.refusal)
    uri = mfa.otpauth_uri(user, key)
    context = {
        "title": "Ajouter une application d'authentification",
        "form": form,
        "qr_code": mfa.qr_code_data_uri(uri),
        "secret": mfa.secret_text(key),
        "next_url": next_url,
    }
    return render(request, "accounts/mfa_totp_add.html", context)


@never_cache
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not mfa.has_second_factor(user):
        raise Http404
    request.session[CODES_KEY] = mfa.regenerate_recovery_codes(user, context=context_of(request))
    messages.success(request, "Vos nouveaux codes de secours remplacent les précédents.")
    return _back_to_factors(request)


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def remove(request: HttpRequest, kind: str, pk: str) -> HttpResponse:
    user = _user(request)
    number = int(pk)  # the URL's pattern has digits only
    found = mfa.factors_of(user)
    items = found.totp if kind == "totp" else found.passkeys
    factor = next((item for item in items if item.pk == number), None)
    if factor is None:
        raise Http404
    last = found.count == 1
    form = OptionalCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (slot := _reserved(user, form)):
        with refusal_shown(request, form, success=f"« {factor.name} » a été supprimé.") as attempt:
            mfa.remove_factor(
                user,
                kind,
                number,
                code=form.cleaned_data["code"],
                context=context_of(request),
            )
            slot.succeeded()
            return _back_to_factors(request)
        _counted(slot, attempt.refusal)
    context = {
        "title": f"Supprimer « {factor.name} »",
        "form": form,
        "last": last,
        "kind": kind,
        "factor": factor,
    }
    return render(request, "accounts/mfa_remove.html", context)
