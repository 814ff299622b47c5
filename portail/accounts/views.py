"""Accounts pages: home / login, sign-up, activation, password reset, "Mon compte".

Views parse the request, apply the rate limits, call a flow (portail.accounts.flows) and render.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portail.accounts import altcha, dormancy, flows, mfa, mfa_views, my_data, user_sessions
from portail.accounts.account_html import account_page
from portail.accounts.forms import (
    DeleteAccountForm,
    EmailChangeForm,
    EmailOnlyForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    SetPasswordForm,
    SignupForm,
    display_phone,
)
from portail.accounts.limits import (
    DATA_EXPORT_PER_ACCOUNT,
    EMAIL_PER_ADDRESS,
    EMAIL_PER_IP,
    LOGIN_PER_ACCOUNT,
    LOGIN_PER_IP,
    LOOKUP_PER_IP,
    REACTIVATION_PER_ACCOUNT,
    SIGNUP_PER_IP,
    TOKEN_PER_IP,
)
from portail.accounts.models import AccountToken, User
from portail.core import strong_auth
from portail.core.context import context_of
from portail.core.ratelimit import Attempt, LimitsUnavailable, attempt, format_wait
from portail.core.refusals import Refusal, refusal_shown

LOGIN_ERROR = "Adresse électronique ou mot de passe incorrect."
# Shown only to whoever typed the right password of an account deactivated for dormancy: it tells
# nothing to someone who does not know the password (no enumeration).
DEACTIVATED_LOGIN = (
    "Votre compte a été désactivé faute d’utilisation. Un lien pour le réactiver vient d’être "
    "envoyé à votre adresse électronique (s’il n’arrive pas, réessayez dans une heure)."
)
AFTER_ACTIVATION_NEXT = "accounts_after_activation_next"
TOKEN_STATUS = {"unknown": 404, "expired": 410, "used": 410}


def _safe_next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _wait_message(seconds: int) -> str:
    return f"Trop de tentatives. Réessayez dans {format_wait(seconds)}."


def _ip(request: HttpRequest) -> str:
    """The address the rate limits count (the trusted proxy rule: `context_of`)."""
    return context_of(request).ip or ""


def _next_of(request: HttpRequest) -> str:
    return _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))


# --- home / login / logout ----------------------------------------------------------------------


@login_not_required
@never_cache
@sensitive_post_parameters("password")
@sensitive_variables("password")
@require_http_methods(["GET", "HEAD", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The portal's home page is its login page ("Connectez-vous")."""
    next_url = _next_of(request)
    if request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None, initial={"next": next_url})
    not_activated_email = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        outcome = _attempt_login(request, form)
        if isinstance(outcome, _Checked) and mfa.has_second_factor(outcome.user):
            outcome.slots.succeeded()
            return mfa_views.begin_second_step(request, outcome.user, next_url)
        if isinstance(outcome, _Checked):
            return _logged_in(request, outcome, next_url)
        status, not_activated_email = outcome
    context = {
        "title": "Connectez-vous",
        "form": form,
        "next_url": next_url,
        "not_activated_email": not_activated_email,
    }
    return render(request, "accounts/home.html", context, status=status)


@dataclass(frozen=True)
class _Checked:
    """The right password of an activated account; its slots are still to be given back."""

    user: User
    slots: Attempt


def _logged_in(request: HttpRequest, checked: _Checked, next_url: str) -> HttpResponse:
    """Log the account in: its slots given back, the session opened and written, the journal
    line and a new browser's notice (its owner is told: user_sessions), in one transaction."""
    user = checked.user

    def open_session() -> None:
        # All inside `log_in`'s transaction: one commit where there were three (the slots' own,
        # unsynced, the login's, the session's with the response) — decision 0014, sixth session.
        checked.slots.succeeded()
        login(request, user)
        strong_auth.record_login(request, ["pwd"], factor=False)
        request.session.save()  # the response's save then finds it written (session_store)

    browser = flows.log_in(
        user,
        open_session,
        browser=user_sessions.browser_token(request),
        context=context_of(request),
    )
    response = redirect(next_url or settings.LOGIN_REDIRECT_URL)
    user_sessions.remember_browser(response, browser)
    return response


@sensitive_variables("form")
def _attempt_login(request: HttpRequest, form: LoginForm) -> _Checked | tuple[int, str]:
    """The account to log in, or (status, not activated address) with the refusal on the form.

    The limits per account and per address are the web's business: they stay in the view. A
    slot is taken on both before the password is checked, and given back when it is right (for
    a login, inside its transaction: `_logged_in`)."""
    email = User.objects.normalize_email(form.cleaned_data["email"])
    try:
        slots = attempt((LOGIN_PER_ACCOUNT, email), (LOGIN_PER_IP, _ip(request)))
    except LimitsUnavailable as refusal:
        form.add_error(None, refusal.message)
        return 503, ""
    if slots.wait:
        flows.record_login_failure(email, "rate_limited", context=context_of(request))
        form.add_error(None, _wait_message(slots.wait))
        return 429, ""
    user = authenticate(request, username=email, password=form.cleaned_data["password"])
    if not isinstance(user, User):
        deactivated = dormancy.deactivated_account_for(email, form.cleaned_data["password"])
        if deactivated is not None:  # the right password: no guess
            slots.succeeded()
            if not REACTIVATION_PER_ACCOUNT.hit(email):
                dormancy.send_reactivation_link(deactivated, context=context_of(request))
            flows.record_login_failure(email, "deactivated", context=context_of(request))
            form.add_error(None, DEACTIVATED_LOGIN)
            return 200, ""
        slots.failed()
        flows.record_login_failure(email, "credentials", context=context_of(request))
        form.add_error(None, LOGIN_ERROR)
        return 200, ""
    if not user.is_email_verified:
        slots.succeeded()
        flows.record_login_failure(email, "not_activated", context=context_of(request))
        return 200, user.email
    return _Checked(user, slots)


login_view = home


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)  # login required (LoginRequiredMiddleware)
    flows.record_logout(request.user, context=context_of(request))
    logout(request)
    messages.success(request, "Vous êtes déconnecté.")
    return redirect("home")


@login_not_required
def agent_entry(request: HttpRequest) -> HttpResponse:
    return redirect("backoffice:login")


# --- sign-up and activation ---------------------------------------------------------------------

ACCOUNT_TABS = [
    (User.AccountType.PARTICULIER, "Particulier"),
    (User.AccountType.PROFESSIONNEL, "Professionnel"),
    (User.AccountType.PARTENAIRE, "Partenaire"),
]


@login_not_required
@never_cache
@sensitive_post_parameters("password1", "password2")
@sensitive_variables("form")
@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    # An invitation link sends people without an account here with `next`: it is kept for the
    # "Accéder au portail" button after activation (in this browser).
    next_url = _next_of(request)
    if next_url:
        request.session[AFTER_ACTIVATION_NEXT] = next_url
    account_type = request.POST.get("account_type") or request.GET.get("type", "")
    if account_type not in User.AccountType.values:
        account_type = User.AccountType.PROFESSIONNEL
    form = SignupForm(initial={"account_type": account_type})
    status = 200
    if request.method == "POST":
        form, status = _signup_posted(request, account_type)
        if status == 302:
            return redirect("accounts:signup_done")
    context = {
        "title": "Créer votre compte",
        "form": form,
        "account_type": account_type,
        "tabs": ACCOUNT_TABS,
        "is_professional": account_type != User.AccountType.PARTICULIER,
        "altcha_error": form.altcha_error,
        "altcha_kept": form.altcha_kept,
        "registry_unavailable": form.registry_unavailable,
        "next_url": next_url,
    }
    return render(request, "accounts/signup.html", context, status=status)


@sensitive_variables("data", "form")
def _signup_posted(request: HttpRequest, account_type: str) -> tuple[SignupForm, int]:
    """The form as posted, and the status: 302 signed up, 429 too many, 200 shown again.

    "lookup" (the button of the page without JavaScript) only prefills the establishment."""
    lookup_only = request.POST.get("action") == "lookup"
    data = request.POST.copy()
    data["account_type"] = account_type  # a forged value falls back to PROFESSIONNEL
    form = SignupForm(data, lookup_only=lookup_only)
    limiter = LOOKUP_PER_IP if lookup_only else SIGNUP_PER_IP
    if limiter.is_blocked(_ip(request)):  # said before the form is checked: nothing is lost
        form.is_valid()
        form.give_back_altcha()
        form.add_error(None, _wait_message(limiter.wait_seconds(_ip(request))))
        return form, 429
    if not form.is_valid():
        return form, 503 if form.unavailable else 200
    # Counts every lookup, every valid sign-up from the address, atomically: a flood sent at
    # once gets no more than the limit through.
    wait = limiter.hit(_ip(request))
    if wait:
        form.give_back_altcha()
        form.add_error(None, _wait_message(wait))
        return form, 429
    with refusal_shown(request, form) as attempt:
        if lookup_only:
            found = flows.look_up_establishment(form.cleaned_data["siret"])
            form.show_establishment(found, registry_down=found is None)
        else:
            flows.sign_up(
                flows.SignupData.from_form(form.cleaned_data), context=context_of(request)
            )
            request.session["signup_email"] = User.objects.normalize_email(
                form.cleaned_data["email"]
            )
            return form, 302
    form.give_back_altcha()  # refused: the person corrects and sends the same form again
    if isinstance(attempt.refusal, flows.EstablishmentRefusal):
        form.show_establishment(attempt.refusal.found, registry_down=attempt.refusal.registry_down)
    return form, 200


@login_not_required
@never_cache
def signup_done(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/signup_done.html",
        {"title": "Activez votre compte", "email": request.session.get("signup_email", "")},
    )


@login_not_required
@never_cache
@require_GET
def altcha_challenge(request: HttpRequest) -> HttpResponse:
    return JsonResponse(altcha.new_challenge())


TokenView = Callable[[HttpRequest, str], HttpResponse]


def token_page(kind: str) -> Callable[[TokenView], TokenView]:
    """Decorate the view of an emailed link: the rate limit per address first, then the view;
    a link that cannot be used (`flows.TokenError`, a refusal with its own page and status:
    404 or 410) shows "Lien non valide / expiré / déjà utilisé" with a form to ask a new one; any
    other refusal of the link's change has a page of its own (409), not a message on a form.

    Anyone may open such a link (`login_not_required`), never cached."""

    def decorator(view: TokenView) -> TokenView:
        @login_not_required
        @never_cache
        @require_http_methods(["GET", "HEAD", "POST"])
        @functools.wraps(view)
        def wrapped(request: HttpRequest, token: str) -> HttpResponse:
            slot = attempt((TOKEN_PER_IP, _ip(request)))
            if slot.wait:
                return _message(request, "Trop de tentatives", _wait_message(slot.wait), status=429)
            guessed = False
            try:
                return view(request, token)
            except flows.TokenError as error:
                guessed = error.reason == "unknown"  # guessing (tokens have 256 bits): counted
                context = {
                    "title": error.message,
                    "reason": error.reason,
                    "kind": kind,
                    "resend_form": EmailOnlyForm(),
                }
                status = TOKEN_STATUS[error.reason]
                return render(request, "accounts/token_error.html", context, status=status)
            except Refusal as refusal:  # the link is good, the change is refused: its own page
                title = getattr(refusal, "title", "Action impossible")
                return _message(request, title, refusal.message, status=409)
            finally:
                if guessed:
                    slot.failed()
                else:
                    slot.succeeded()

        return wrapped

    return decorator


def _message(request: HttpRequest, title: str, text: str = "", status: int = 200) -> HttpResponse:
    context = {"title": title, "text": text}
    return render(request, "accounts/message.html", context, status=status)


@token_page("activation")
def activate(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the button "Activer mon compte"; only the POST activates (mail scanners GET)."""
    if request.method != "POST":
        flows.find_token(token, AccountToken.Purpose.ACTIVATION)
        return render(request, "accounts/activate.html", {"title": "Activer mon compte"})
    user = flows.activate(token, context=context_of(request))
    context = {
        "title": "Votre compte est activé",
        "activated_user": user,
        "next_url": _safe_next(request, request.session.get(AFTER_ACTIVATION_NEXT, "")),
    }
    return render(request, "accounts/activated.html", context)


def _mail_link_within_limits(
    request: HttpRequest, form: EmailOnlyForm, send_link: Callable[..., None]
) -> bool:
    """Have `send_link` mail a link to the valid form's address, within the rate limits: False,
    with the wait shown on the form, when this IP asked too often. Per address the limit is
    silent: the answer must not depend on the account."""
    email = User.objects.normalize_email(form.cleaned_data["email"])
    wait = EMAIL_PER_IP.hit(_ip(request))
    if wait:
        form.add_error(None, _wait_message(wait))
        return False
    if not EMAIL_PER_ADDRESS.hit(email):
        send_link(email, context=context_of(request))
    return True


@dataclass(frozen=True)
class LinkPage:
    """The words of a page that asks for an address to mail a link to."""

    title: str
    intro: str
    submit: str


RESEND_ACTIVATION_PAGE = LinkPage(
    "Recevoir un nouveau lien d'activation",
    "Indiquez l'adresse électronique de votre compte : nous vous enverrons un nouveau lien "
    "d'activation.",
    "Recevoir un nouveau lien",
)
PASSWORD_RESET_PAGE = LinkPage(
    "Mot de passe oublié ?",
    "Indiquez l'adresse électronique de votre compte : nous vous enverrons un lien pour choisir "
    "un nouveau mot de passe.",
    "Recevoir le lien",
)


def _ask_for_link(
    request: HttpRequest, page: LinkPage, send_link: Callable[..., None]
) -> HttpResponse | None:
    """The page asking for the address; None once `send_link` was called (or silently not)."""
    form = EmailOnlyForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and _mail_link_within_limits(request, form, send_link)
    ):
        return None
    return _form_page(request, form, page.title, page.submit, "home", intro=page.intro)


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def resend_activation(request: HttpRequest) -> HttpResponse:
    if asked := _ask_for_link(request, RESEND_ACTIVATION_PAGE, flows.resend_activation):
        return asked
    return _message(
        request,
        "Lien d'activation envoyé",
        "Si un compte non activé existe pour cette adresse, un nouveau lien "
        "d'activation vient de lui être envoyé. Il est valable 48 heures.",
    )


# --- password reset -----------------------------------------------------------------------------


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    if asked := _ask_for_link(request, PASSWORD_RESET_PAGE, flows.request_password_reset):
        return asked
    return redirect("accounts:password_reset_done")


@login_not_required
@never_cache
def password_reset_done(request: HttpRequest) -> HttpResponse:
    return _message(
        request,
        "Vérifiez votre messagerie",
        "Si un compte existe pour cette adresse, un courriel vient de lui être envoyé avec "
        "un lien pour choisir un nouveau mot de passe. Ce lien est valable 1 heure et ne "
        "sert qu'une fois.",
    )


@token_page("password_reset")
@sensitive_post_parameters("password1", "password2")
@sensitive_variables("form")
def password_reset_confirm(request: HttpRequest, token: str) -> HttpResponse:
    found = flows.find_token(token, AccountToken.Purpose.PASSWORD_RESET)
    form = SetPasswordForm(found.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        # A TokenError here (used meanwhile, by another tab) shows the link's page too.
        flows.reset_password(token, form.cleaned_data["password1"], context=context_of(request))
        messages.success(request, "Votre mot de passe a été modifié. Vous pouvez vous connecter.")
        return redirect("home")
    return _form_page(
        request, form, "Choisissez un nouveau mot de passe", "Enregistrer le mot de passe", "home"
    )


def _form_page(
    request: HttpRequest, form: Form, title: str, submit: str, cancel: str, *, intro: str = ""
) -> HttpResponse:
    """The page of one form (accounts/form_page.html); `cancel` names the "Retour" page."""
    context = {
        "title": title,
        "intro": intro,
        "form": form,
        "submit_label": submit,
        "cancel_url": reverse(cancel),
    }
    return render(request, "accounts/form_page.html", context)


def _user(request: HttpRequest) -> User:
    """The signed-in account (these pages require a login: LoginRequiredMiddleware)."""
    assert isinstance(request.user, User)
    return request.user


# --- Mon compte ---------------------------------------------------------------------------------


def _account_page(request: HttpRequest, profile_form: ProfileForm | None = None) -> HttpResponse:
    user = _user(request)
    if profile_form is not None:  # sent back with its errors
        context = {"title": "Mon compte", "profile_form": profile_form, "account": user}
        return render(request, "accounts/account.html", context)
    initial = {f: getattr(user, f) for f in flows.PROFILE_FIELDS}
    if initial.get("phone"):
        initial["phone"] = display_phone(initial["phone"])
    return account_page(request, user, initial)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _account_page(request)
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return _account_page(request, form)
    changed = flows.update_profile(_user(request), form.cleaned_data, context=context_of(request))
    messages.success(
        request, "Vos coordonnées ont été enregistrées." if changed else "Aucune modification."
    )
    return redirect("accounts:account")


@never_cache
@sensitive_post_parameters("current_password", "password1", "password2")
@sensitive_variables("form")
@require_http_methods(["GET", "HEAD", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(_user(request), request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["password1"]
        flows.change_password(_user(request), password, context=context_of(request))
        update_session_auth_hash(request, _user(request))
        messages.success(request, "Votre mot de passe a été modifié.")
        return redirect("accounts:account")
    return _form_page(
        request, form, "Changer mon mot de passe", "Changer mon mot de passe", "accounts:account"
    )


@never_cache
@sensitive_post_parameters("current_password")
@require_http_methods(["GET", "HEAD", "POST"])
def email_change(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(_user(request), request.POST or None)
    if request.method == "POST" and form.is_valid():
        new_email = form.cleaned_data["new_email"]
        flows.request_email_change(_user(request), new_email, context=context_of(request))
        messages.success(
            request,
            "Un lien de confirmation a été envoyé à votre nouvelle adresse : "
            "elle remplacera l'actuelle quand vous l'aurez ouvert (valable 48 heures).",
        )
        return redirect("accounts:account")
    return _form_page(
        request,
        form,
        "Changer mon adresse électronique",
        "Recevoir le lien de confirmation",
        "accounts:account",
    )


@token_page("email_change")
def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        found = flows.find_token(token, AccountToken.Purpose.EMAIL_CHANGE)
        context = {"title": "Confirmer ma nouvelle adresse", "new_email": found.new_email}
        return render(request, "accounts/email_change_confirm.html", context)
    # The address taken meanwhile by another account: a refusal, shown by `token_page`.
    user = flows.confirm_email_change(token, context=context_of(request))
    messages.success(request, f"Votre adresse électronique est désormais {user.email}.")
    return redirect("accounts:account" if request.user.is_authenticated else "home")


@never_cache
@sensitive_post_parameters("current_password")
@require_http_methods(["GET", "HEAD", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    blockers = flows.sole_gestionnaire_of(_user(request))
    form = DeleteAccountForm(_user(request), request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form) as attempt:
            flows.delete_account(_user(request), context=context_of(request))
            logout(request)
            messages.success(request, "Votre compte a été supprimé.")
            return redirect("home")
        # Refused: the only gestionnaire somewhere (the refusal names where).
        blockers = getattr(attempt.refusal, "blockers", blockers)
        status = 409
    context = {"title": "Supprimer mon compte", "form": form, "blockers": blockers}
    return render(request, "accounts/account_delete.html", context, status=status)


@login_not_required
def about(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/about.html", {"title": "En savoir plus"})


# --- dormant accounts: reactivation -------------------------------------------------------------


@token_page("reactivation")
def reactivate(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows "Réactiver mon compte"; only the POST reactivates (mail scanners GET)."""
    if request.method != "POST":
        dormancy.find_reactivation_token(token)
        return render(request, "accounts/reactivate.html", {"title": "Réactiver mon compte"})
    dormancy.reactivate(token, context=context_of(request))
    messages.success(request, "Votre compte est réactivé. Vous pouvez vous connecter.")
    return redirect("home")


# --- Mes données --------------------------------------------------------------------------------

EXPORT_FORMATS = ("json", "html")


def _strong_auth_first(request: HttpRequest) -> HttpResponse | None:
    """An account with a second factor checks it again (within 15 minutes) before a download."""
    return strong_auth.strong_auth_redirect(
        request,
        required=mfa.has_second_factor(_user(request)),
        step_up=True,
        next_url=reverse("accounts:my_data"),
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def my_data_page(request: HttpRequest) -> HttpResponse:
    """ "Mes données": what the download holds, and two buttons (POST): JSON, readable page."""
    if (step_up := _strong_auth_first(request)) is not None:
        return step_up
    status = 200
    error = ""
    if request.method == "POST":
        fmt = request.POST.get("format", "")
        if fmt not in EXPORT_FORMATS:
            error = "Choisissez l’un des deux formats proposés."
            status = 400
        elif wait := DATA_EXPORT_PER_ACCOUNT.hit(str(_user(request).pk)):
            error = (
                "Vous avez déjà téléchargé vos données plusieurs fois en une heure. "
                f"Réessayez dans {format_wait(wait)}."
            )
            status = 429
        else:
            return _download(request, fmt)
    retention = {
        "outbox_days": settings.RETENTION_OUTBOX_BODY_DAYS,
        "journal_years": settings.RETENTION_JOURNAL_YEARS,
        "unactivated_days": settings.RETENTION_UNACTIVATED_ACCOUNT_DAYS,
        "dormant_days": settings.DORMANT_ACCOUNT_DAYS,
        "notice_days": settings.DORMANT_ACCOUNT_NOTICE_DAYS,
    }
    context = {"title": "Mes données", "error": error, "retention": retention}
    return render(request, "accounts/my_data.html", context, status=status)


def _download(request: HttpRequest, fmt: str) -> HttpResponse:
    user = _user(request)
    data = my_data.export_of(user)
    flows.record_data_export(user, fmt, context=context_of(request))
    stamp = timezone.localdate().isoformat()
    if fmt == "json":
        response: HttpResponse = JsonResponse(
            data, json_dumps_params={"ensure_ascii": False, "indent": 2}
        )
        filename = f"mes-donnees-{stamp}.json"
    else:
        response = render(request, "accounts/my_data_export.html", {"data": data})
        filename = f"mes-donnees-{stamp}.html"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
