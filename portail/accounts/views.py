"""Accounts pages: home / login, sign-up, activation, password reset, "Mon compte".

Views parse the request, apply the rate limits, call a flow (portail.accounts.flows) and render.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portail.accounts import altcha, flows
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
from portail.accounts.models import AccountToken, User
from portail.core.client_ip import client_ip
from portail.core.context import context_of
from portail.core.ratelimit import Limiter, format_wait

# Growing waits, never a permanent lock (portail.core.ratelimit): per account and per address.
LOGIN_PER_ACCOUNT = Limiter("login-account", limit=5, window=15 * 60, base_wait=60)
LOGIN_PER_IP = Limiter("login-ip", limit=30, window=15 * 60, base_wait=60)
# Emails sent on request (activation again, password reset): per address asked and per IP.
EMAIL_PER_ADDRESS = Limiter("account-email", limit=3, window=60 * 60, base_wait=15 * 60)
EMAIL_PER_IP = Limiter("account-email-ip", limit=20, window=60 * 60, base_wait=15 * 60)
SIGNUP_PER_IP = Limiter("signup-ip", limit=20, window=60 * 60, base_wait=15 * 60)
LOOKUP_PER_IP = Limiter("signup-lookup-ip", limit=60, window=60 * 60, base_wait=5 * 60)
TOKEN_PER_IP = Limiter("account-token-ip", limit=20, window=15 * 60, base_wait=60)

LOGIN_ERROR = "Adresse électronique ou mot de passe incorrect."
AFTER_ACTIVATION_NEXT = "accounts_after_activation_next"
TOKEN_STATUS = {"unknown": 404, "expired": 410, "used": 410}


def _safe_next(request, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _wait_message(seconds: int) -> str:
    return f"Trop de tentatives. Réessayez dans {format_wait(seconds)}."


# --- home / login / logout ----------------------------------------------------------------------


@login_not_required
@never_cache
@sensitive_post_parameters("password")
@sensitive_variables("password")
@require_http_methods(["GET", "HEAD", "POST"])
def home(request):
    """The portal's home page is its login page ("Connectez-vous")."""
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    if request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None, initial={"next": next_url})
    not_activated_email = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        email = User.objects.normalize_email(form.cleaned_data["email"])
        password = form.cleaned_data["password"]
        ip = client_ip(request)
        wait = max(LOGIN_PER_ACCOUNT.wait_seconds(email), LOGIN_PER_IP.wait_seconds(ip))
        if wait:
            flows.record_login_failure(email, "rate_limited", context=context_of(request))
            form.add_error(None, _wait_message(wait))
            status = 429
        else:
            user = authenticate(request, username=email, password=password)
            if user is None:
                LOGIN_PER_ACCOUNT.fail(email)
                LOGIN_PER_IP.fail(ip)
                flows.record_login_failure(email, "credentials", context=context_of(request))
                form.add_error(None, LOGIN_ERROR)
            elif not user.is_email_verified:
                flows.record_login_failure(email, "not_activated", context=context_of(request))
                not_activated_email = user.email
            else:
                # One transaction: the new session row (a new key: no fixation), last_login and
                # the audit event are committed together.
                with transaction.atomic():
                    login(request, user)
                    flows.record_login(user, context=context_of(request))
                return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "accounts/home.html",
        {
            "title": "Connectez-vous",
            "form": form,
            "next_url": next_url,
            "not_activated_email": not_activated_email,
            "resend_form": EmailOnlyForm(initial={"email": not_activated_email}),
        },
        status=status,
    )


login_view = home


@require_POST
def logout_view(request):
    flows.record_logout(request.user, context=context_of(request))
    logout(request)
    messages.success(request, "Vous êtes déconnecté.")
    return redirect("home")


@login_not_required
def agent_entry(request):
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
def signup(request):
    # An invitation link sends people without an account here with `next`: it is kept for the
    # "Accéder au portail" button after activation (in this browser).
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    if next_url:
        request.session[AFTER_ACTIVATION_NEXT] = next_url
    account_type = request.POST.get("account_type") or request.GET.get("type", "")
    if account_type not in User.AccountType.values:
        account_type = User.AccountType.PROFESSIONNEL
    ip = client_ip(request)
    status = 200
    if request.method == "POST":
        lookup_only = request.POST.get("action") == "lookup"
        data = request.POST.copy()
        data["account_type"] = account_type  # a forged value falls back to PROFESSIONNEL
        form = SignupForm(data, lookup_only=lookup_only)
        limiter = LOOKUP_PER_IP if lookup_only else SIGNUP_PER_IP
        wait = limiter.wait_seconds(ip)
        if wait:
            form.is_valid()
            form.add_error(None, _wait_message(wait))
            status = 429
        elif form.is_valid() and not lookup_only:
            SIGNUP_PER_IP.fail(ip)  # counts every sign-up from the address
            data = form.cleaned_data
            flows.sign_up(
                flows.SignupData(
                    email=data["email"],
                    password=data["password1"],
                    account_type=data["account_type"],
                    civilite=data["civilite"],
                    last_name=data["last_name"],
                    first_name=data["first_name"],
                    phone=data["phone"],
                    establishment=form.establishment_for_signup(),
                    declared_siret=data.get("siret", ""),
                    declared_company_name=data.get("company_name", ""),
                    declared_address=data.get("address", ""),
                    declared_commune=data.get("commune", ""),
                ),
                context=context_of(request),
            )
            request.session["signup_email"] = User.objects.normalize_email(data["email"])
            return redirect("accounts:signup_done")
        elif lookup_only:
            LOOKUP_PER_IP.fail(ip)
    else:
        form = SignupForm(initial={"account_type": account_type})
    return render(
        request,
        "accounts/signup.html",
        {
            "title": "Créer votre compte",
            "form": form,
            "account_type": account_type,
            "tabs": ACCOUNT_TABS,
            "is_professional": account_type != User.AccountType.PARTICULIER,
            "altcha_error": getattr(form, "altcha_error", ""),
            "registry_unavailable": getattr(form, "registry_unavailable", False),
            "next_url": next_url,
        },
        status=status,
    )


@login_not_required
@never_cache
def signup_done(request):
    return render(
        request,
        "accounts/signup_done.html",
        {"title": "Activez votre compte", "email": request.session.get("signup_email", "")},
    )


@login_not_required
@never_cache
@require_GET
def altcha_challenge(request):
    return JsonResponse(altcha.new_challenge())


def _token_error(request, error: flows.TokenError, kind: str):
    return render(
        request,
        "accounts/token_error.html",
        {
            "title": {
                "unknown": "Lien non valide",
                "expired": "Lien expiré",
                "used": "Lien déjà utilisé",
            }[error.reason],
            "reason": error.reason,
            "kind": kind,
            "resend_form": EmailOnlyForm(),
        },
        status=TOKEN_STATUS[error.reason],
    )


def _token_guard(request):
    """Refuse a client that guesses tokens (they have 256 bits: this only stops hammering)."""
    ip = client_ip(request)
    wait = TOKEN_PER_IP.wait_seconds(ip)
    if wait:
        return render(
            request,
            "accounts/message.html",
            {"title": "Trop de tentatives", "text": _wait_message(wait)},
            status=429,
        )
    return None


def _token_failed(request, error: flows.TokenError):
    if error.reason == "unknown":
        TOKEN_PER_IP.fail(client_ip(request))


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def activate(request, token):
    """GET shows the button "Activer mon compte"; only the POST activates (mail scanners GET)."""
    if blocked := _token_guard(request):
        return blocked
    try:
        if request.method == "POST":
            user = flows.activate(token, context=context_of(request))
            return render(
                request,
                "accounts/activated.html",
                {
                    "title": "Votre compte est activé",
                    "activated_user": user,
                    "next_url": _safe_next(request, request.session.get(AFTER_ACTIVATION_NEXT, "")),
                },
            )
        flows.find_token(token, AccountToken.Purpose.ACTIVATION)
    except flows.TokenError as error:
        _token_failed(request, error)
        return _token_error(request, error, "activation")
    return render(request, "accounts/activate.html", {"title": "Activer mon compte"})


def _mail_link_within_limits(request, form, send_link) -> bool:
    """Have `send_link` mail a link to the valid form's address, within the rate limits: False,
    with the wait shown on the form, when this IP asked too often. Per address the limit is
    silent: the answer must not depend on the account."""
    email = User.objects.normalize_email(form.cleaned_data["email"])
    ip = client_ip(request)
    wait = EMAIL_PER_IP.wait_seconds(ip)
    if wait:
        form.add_error(None, _wait_message(wait))
        return False
    EMAIL_PER_IP.fail(ip)
    if not EMAIL_PER_ADDRESS.is_blocked(email):
        EMAIL_PER_ADDRESS.fail(email)
        send_link(email, context=context_of(request))
    return True


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def resend_activation(request):
    form = EmailOnlyForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and _mail_link_within_limits(request, form, flows.resend_activation)
    ):
        return render(
            request,
            "accounts/message.html",
            {
                "title": "Lien d'activation envoyé",
                "text": (
                    "Si un compte non activé existe pour cette adresse, un nouveau lien "
                    "d'activation vient de lui être envoyé. Il est valable 48 heures."
                ),
            },
        )
    return render(
        request,
        "accounts/email_form.html",
        {
            "title": "Recevoir un nouveau lien d'activation",
            "form": form,
            "intro": "Indiquez l'adresse électronique de votre compte : nous vous enverrons un nouveau lien d'activation.",
            "submit_label": "Recevoir un nouveau lien",
        },
    )


# --- password reset -----------------------------------------------------------------------------


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def password_reset(request):
    form = EmailOnlyForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and _mail_link_within_limits(request, form, flows.request_password_reset)
    ):
        return redirect("accounts:password_reset_done")
    return render(
        request,
        "accounts/email_form.html",
        {
            "title": "Mot de passe oublié ?",
            "form": form,
            "intro": "Indiquez l'adresse électronique de votre compte : nous vous enverrons un lien pour choisir un nouveau mot de passe.",
            "submit_label": "Recevoir le lien",
        },
    )


@login_not_required
@never_cache
def password_reset_done(request):
    return render(
        request,
        "accounts/message.html",
        {
            "title": "Vérifiez votre messagerie",
            "text": (
                "Si un compte existe pour cette adresse, un courriel vient de lui être envoyé avec "
                "un lien pour choisir un nouveau mot de passe. Ce lien est valable 1 heure et ne "
                "sert qu'une fois."
            ),
        },
    )


@login_not_required
@never_cache
@sensitive_post_parameters("password1", "password2")
@sensitive_variables("form")
@require_http_methods(["GET", "HEAD", "POST"])
def password_reset_confirm(request, token):
    if blocked := _token_guard(request):
        return blocked
    try:
        found = flows.find_token(token, AccountToken.Purpose.PASSWORD_RESET)
    except flows.TokenError as error:
        _token_failed(request, error)
        return _token_error(request, error, "password_reset")
    form = SetPasswordForm(found.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            flows.reset_password(token, form.cleaned_data["password1"], context=context_of(request))
        except flows.TokenError as error:  # used meanwhile, by another tab
            return _token_error(request, error, "password_reset")
        messages.success(request, "Votre mot de passe a été modifié. Vous pouvez vous connecter.")
        return redirect("home")
    return render(
        request,
        "accounts/password_form.html",
        {
            "title": "Choisissez un nouveau mot de passe",
            "form": form,
            "submit_label": "Enregistrer le mot de passe",
            "cancel_url": reverse("home"),
        },
    )


# --- Mon compte ---------------------------------------------------------------------------------


def _account_page(request, profile_form=None, status=200):
    user = request.user
    initial = {f: getattr(user, f) for f in flows.PROFILE_FIELDS}
    if initial.get("phone"):
        initial["phone"] = display_phone(initial["phone"])
    profile_form = profile_form or ProfileForm(initial=initial)
    return render(
        request,
        "accounts/account.html",
        {"title": "Mon compte", "profile_form": profile_form, "account": user},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def account(request):
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            changed = flows.update_profile(
                request.user, form.cleaned_data, context=context_of(request)
            )
            messages.success(
                request,
                "Vos coordonnées ont été enregistrées." if changed else "Aucune modification.",
            )
            return redirect("accounts:account")
        return _account_page(request, form)
    return _account_page(request)


@never_cache
@sensitive_post_parameters("current_password", "password1", "password2")
@sensitive_variables("form")
@require_http_methods(["GET", "HEAD", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        flows.change_password(
            request.user, form.cleaned_data["password1"], context=context_of(request)
        )
        update_session_auth_hash(request, request.user)
        messages.success(request, "Votre mot de passe a été modifié.")
        return redirect("accounts:account")
    return render(
        request,
        "accounts/password_form.html",
        {
            "title": "Changer mon mot de passe",
            "form": form,
            "submit_label": "Changer mon mot de passe",
            "cancel_url": reverse("accounts:account"),
        },
    )


@never_cache
@sensitive_post_parameters("current_password")
@require_http_methods(["GET", "HEAD", "POST"])
def email_change(request):
    form = EmailChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        flows.request_email_change(
            request.user, form.cleaned_data["new_email"], context=context_of(request)
        )
        messages.success(
            request,
            "Un lien de confirmation a été envoyé à votre nouvelle adresse : "
            "elle remplacera l'actuelle quand vous l'aurez ouvert (valable 48 heures).",
        )
        return redirect("accounts:account")
    return render(
        request,
        "accounts/password_form.html",
        {
            "title": "Changer mon adresse électronique",
            "form": form,
            "submit_label": "Recevoir le lien de confirmation",
            "cancel_url": reverse("accounts:account"),
        },
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def email_change_confirm(request, token):
    if blocked := _token_guard(request):
        return blocked
    try:
        if request.method == "POST":
            try:
                user = flows.confirm_email_change(token, context=context_of(request))
            except flows.EmailAlreadyUsedError:
                return render(
                    request,
                    "accounts/message.html",
                    {
                        "title": "Adresse déjà utilisée",
                        "text": "Cette adresse électronique est déjà celle d'un autre compte : elle ne peut pas remplacer la vôtre.",
                    },
                    status=409,
                )
            messages.success(request, f"Votre adresse électronique est désormais {user.email}.")
            return redirect("accounts:account" if request.user.is_authenticated else "home")
        found = flows.find_token(token, AccountToken.Purpose.EMAIL_CHANGE)
    except flows.TokenError as error:
        _token_failed(request, error)
        return _token_error(request, error, "email_change")
    return render(
        request,
        "accounts/email_change_confirm.html",
        {"title": "Confirmer ma nouvelle adresse", "new_email": found.new_email},
    )


@never_cache
@sensitive_post_parameters("current_password")
@require_http_methods(["GET", "HEAD", "POST"])
def account_delete(request):
    blockers = flows.sole_gestionnaire_of(request.user)
    form = DeleteAccountForm(request.user, request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            flows.delete_account(request.user, context=context_of(request))
        except flows.AccountDeletionRefusedError as refused:
            blockers = refused.blockers
            status = 409
        else:
            logout(request)
            messages.success(request, "Votre compte a été supprimé.")
            return redirect("home")
    return render(
        request,
        "accounts/account_delete.html",
        {"title": "Supprimer mon compte", "form": form, "blockers": blockers},
        status=status,
    )


@login_not_required
def about(request):
    return render(request, "accounts/about.html", {"title": "En savoir plus"})
