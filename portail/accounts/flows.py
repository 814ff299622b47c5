"""Every change to an account, one function each: sign-up, activation, login events, password
reset and change, profile, change of email address, deletion.

Each runs in one transaction, locks the rows it changes, writes its audit event and queues its
emails (portail.notifications) before it returns. Tokens exist only in the emails: the database
holds their keyed hash (portail.core.secrets). Nothing here logs a password or a token.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from portail.accounts.models import AccountToken, User, UserSession
from portail.accounts.user_sessions import note_login_browser, session_ending
from portail.audit.journal import record
from portail.companies import registry
from portail.companies.models import Establishment
from portail.companies.registry import EstablishmentData
from portail.core.context import SYSTEM, Context
from portail.core.refusals import Refusal
from portail.core.secrets import keyed_hash, new_url_token
from portail.habilitations.feed import lock_feeds
from portail.habilitations.grants import revoke_habilitation
from portail.habilitations.models import Habilitation
from portail.notifications.emails import send_email

logger = logging.getLogger(__name__)

ACTIVATION_VALIDITY = timedelta(hours=48)
PASSWORD_RESET_VALIDITY = timedelta(hours=1)
EMAIL_CHANGE_VALIDITY = timedelta(hours=48)
EMAIL_CATEGORY = "account"

_LINK_VIEWS = {
    AccountToken.Purpose.ACTIVATION: "accounts:activate",
    AccountToken.Purpose.PASSWORD_RESET: "accounts:password_reset_confirm",
    AccountToken.Purpose.EMAIL_CHANGE: "accounts:email_change_confirm",
    AccountToken.Purpose.REACTIVATION: "accounts:reactivate",
}


TOKEN_TITLES = {
    "unknown": "Lien non valide",
    "expired": "Lien expiré",
    "used": "Lien déjà utilisé",
}
SOLE_GESTIONNAIRE = (
    "Vous êtes le seul gestionnaire d'une démarche pour un établissement : donnez d'abord ce rôle "
    "à un collaborateur, puis revenez supprimer votre compte."
)
EMAIL_ALREADY_USED = (
    "Cette adresse électronique est déjà celle d'un autre compte : "
    "elle ne peut pas remplacer la vôtre."
)
CONFIRM_ESTABLISHMENT = (
    "Nous avons trouvé votre établissement dans le répertoire des entreprises : "
    "vérifiez sa raison sociale, son adresse et sa commune, puis cliquez de nouveau "
    "sur « Créer mon compte »."
)
ALREADY_ACTIVATED = "Ce compte est déjà activé."
DEACTIVATED = "Ce compte est désactivé."


class TokenError(Refusal):
    """A link that cannot be used. `reason` is "unknown", "expired" or "used"."""

    def __init__(self, reason: str, token: AccountToken | None = None) -> None:
        super().__init__(TOKEN_TITLES[reason])
        self.reason = reason
        self.token = token


class AccountDeletionRefusedError(Refusal):
    """The account is the only gestionnaire somewhere; `blockers` lists their habilitations."""

    def __init__(self, blockers: list[Habilitation]) -> None:
        super().__init__(SOLE_GESTIONNAIRE)
        self.blockers = blockers


class EmailAlreadyUsedError(Refusal):
    """The new address of an email change belongs to another account by now."""

    title = "Adresse déjà utilisée"

    def __init__(self) -> None:
        super().__init__(EMAIL_ALREADY_USED)


class EstablishmentRefusal(Refusal):
    """A sign-up stopped for its establishment. `found` is what the registry knows of it (the form
    comes back prefilled, to be checked); `registry_down`: the registry did not answer and the
    person must type the establishment."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        found: EstablishmentData | None = None,
        registry_down: bool = False,
    ) -> None:
        super().__init__(message, field=field)
        self.found = found
        self.registry_down = registry_down


def _journal(action: str, user: User, context: Context, data: dict[str, Any] | None = None) -> None:
    """An event the person causes on their own account (actor and target are the account)."""
    record(action, actor=user, target=user, context=context, data=data or {})


# --- tokens -------------------------------------------------------------------------------------


def _token_hash(token: str, purpose: str) -> str:
    return keyed_hash(token, f"accounts:{purpose}")


def _issue_token(user: User, purpose: str, validity: timedelta, new_email: str = "") -> str:
    token = new_url_token()  # 256 random bits
    now = timezone.now()
    AccountToken.objects.create(
        user=user,
        purpose=purpose,
        token_hash=_token_hash(token, purpose),
        new_email=new_email,
        created_at=now,
        expires_at=now + validity,
    )
    return token


def _link(purpose: AccountToken.Purpose, token: str) -> str:
    return settings.PORTAL_BASE_URL + reverse(_LINK_VIEWS[purpose], args=[token])


def _password_reset_page_url() -> str:
    return settings.PORTAL_BASE_URL + reverse("accounts:password_reset")


def _send_activation_link(user: User, *, establishment: Establishment | None = None) -> None:
    """A new activation link (valid 48 hours), mailed to the account's address."""
    token = _issue_token(user, AccountToken.Purpose.ACTIVATION, ACTIVATION_VALIDITY)
    send_email(
        "accounts/emails/activation",
        user.email,
        {"user": user, "link": _link(AccountToken.Purpose.ACTIVATION, token), "hours": 48},
        category=EMAIL_CATEGORY,
        establishment=establishment,
    )


def _send_password_changed_notice(user: User) -> None:
    send_email(
        "accounts/emails/password_changed",
        user.email,
        {"user": user, "reset_link": _password_reset_page_url()},
        category=EMAIL_CATEGORY,
    )


def find_token(token: str, purpose: str, *, lock: bool = False) -> AccountToken:
    """The live token row for `token`, or TokenError("unknown" / "used" / "expired")."""
    if not token or len(token) > 128:
        raise TokenError("unknown")
    queryset = AccountToken.objects.of_purpose(purpose).select_related("user")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    found: AccountToken | None = queryset.filter(token_hash=_token_hash(token, purpose)).first()
    if found is None or not found.user.is_active:
        raise TokenError("unknown")
    if found.is_used:
        raise TokenError("used", found)
    if found.is_expired():
        raise TokenError("expired", found)
    return found


def _burn_tokens(user: User, purpose: str, now: datetime) -> None:
    AccountToken.objects.of_purpose(purpose).filter(user=user, used_at__isnull=True).update(
        used_at=now
    )


def _lock_user(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


# --- sign-up and activation ---------------------------------------------------------------------


@dataclass
class SignupData:
    email: str
    password: str
    account_type: str
    civilite: str
    last_name: str
    first_name: str
    phone: str
    declared_siret: str = ""
    declared_company_name: str = ""
    declared_address: str = ""
    declared_commune: str = ""

    @classmethod
    def from_form(cls, cleaned: Mapping[str, Any]) -> SignupData:
        """From the sign-up form's cleaned data."""
        return cls(
            email=cleaned["email"],
            password=cleaned["password1"],
            account_type=cleaned["account_type"],
            civilite=cleaned["civilite"],
            last_name=cleaned["last_name"],
            first_name=cleaned["first_name"],
            phone=cleaned["phone"],
            declared_siret=cleaned.get("siret", ""),
            declared_company_name=cleaned.get("company_name", ""),
            declared_address=cleaned.get("address", ""),
            declared_commune=cleaned.get("commune", ""),
        )

    @property
    def is_professional(self) -> bool:
        return self.account_type != User.AccountType.PARTICULIER


def look_up_establishment(siret: str) -> EstablishmentData | None:
    """What the registry says of the SIRET typed at sign-up; None when it does not answer.

    A network call: never inside a transaction. Refuses (on the SIRET field) an establishment the
    registry does not know, or knows closed.
    """
    try:
        found = registry.lookup(siret)
    except registry.RegistryUnavailable:
        return None
    except registry.RegistryError as exc:  # InvalidSiret, UnknownSiret
        raise Refusal(exc.message, field="siret") from exc
    if not found.is_active:
        raise Refusal(registry.CLOSED_MESSAGE, field="siret")
    return found


def _establishment_for_signup(data: SignupData) -> Establishment:
    """The Establishment row the account points to: from the registry, or as declared when the
    registry does not answer. Asks the registry: called before the sign-up's transaction."""
    found = look_up_establishment(data.declared_siret)
    if found is None:
        if not data.declared_company_name.strip():
            raise EstablishmentRefusal(
                registry.UNAVAILABLE_MESSAGE, field="siret", registry_down=True
            )
        return registry.declared_establishment(
            data.declared_siret,
            data.declared_company_name,
            data.declared_address,
            "",
            data.declared_commune,
        )
    typed = (data.declared_company_name, data.declared_address, data.declared_commune)
    if not any(value.strip() for value in typed):
        # Nothing of the establishment typed (no JavaScript): the form comes back prefilled, for
        # the person to check (and adjust) before creating the account.
        raise EstablishmentRefusal(CONFIRM_ESTABLISHMENT, found=found)
    return registry.establishment_from_registry(data.declared_siret)


def sign_up(data: SignupData, *, context: Context = SYSTEM) -> User | None:
    """Create the account and mail its activation link; None when the email already has one.

    A professional's establishment is asked of the registry first (network, before the
    transaction): an unknown or closed SIRET is refused on its field.

    The page shown is the same either way (no enumeration): the owner of an existing account
    gets an email saying someone tried to sign up with their address, or, when that account was
    never activated, a fresh activation link.
    """
    email = User.objects.normalize_email(data.email)
    establishment = _establishment_for_signup(data) if data.is_professional else None
    try:
        with transaction.atomic():
            existing = User.objects.select_for_update().filter(email__iexact=email).first()
            if existing is not None:
                # Same cost as a real sign-up: the response time tells nothing either.
                make_password(data.password)
                _signup_with_existing_email(existing, context)
                return None
            user = User(
                email=email,
                account_type=data.account_type,
                civilite=data.civilite,
                last_name=data.last_name,
                first_name=data.first_name,
                phone=data.phone,
            )
            if establishment is not None:
                user.establishment = establishment
                user.declared_siret = data.declared_siret
                user.declared_siren = data.declared_siret[:9]
                user.declared_company_name = data.declared_company_name
                user.declared_address = data.declared_address
                user.declared_commune = data.declared_commune
                user.establishment_verified = establishment.verified
            user.set_password(data.password)
            user.save()
            _send_activation_link(user, establishment=establishment)
            logger.info("Account %s signed up (%s)", user.pk, user.account_type)
            record(
                "account.signup",
                actor=None,
                target=user,
                establishment=establishment,
                context=context,
                data={
                    "account_type": user.account_type,
                    "siret": user.declared_siret,
                    "establishment_verified": user.establishment_verified,
                },
            )
            return user
    except IntegrityError:
        # Two sign-ups raced with the same address: the other one won, this one says the same.
        return None


def _signup_with_existing_email(existing: User, context: Context) -> None:
    if existing.is_email_verified or not existing.is_active:
        if existing.is_active:
            send_email(
                "accounts/emails/account_exists",
                existing.email,
                {
                    "user": existing,
                    "reset_link": _password_reset_page_url(),
                },
                category=EMAIL_CATEGORY,
            )
        record("account.signup_existing_email", target=existing, context=context)
        return
    _send_activation_link(existing)
    record("account.activation_resent", target=existing, context=context, data={"via": "signup"})


def resend_activation(email: str, *, context: Context = SYSTEM) -> None:
    """Mail a new activation link when `email` has an account not yet activated; else nothing."""
    email = User.objects.normalize_email(email)
    with transaction.atomic():
        user = (
            User.objects.select_for_update()
            .filter(email__iexact=email, is_active=True, email_verified_at__isnull=True)
            .first()
        )
        if user is None:
            return
        _send_activation_link(user)
        record("account.activation_resent", target=user, context=context)


def resend_activation_to(
    user: User, *, actor: User | None = None, context: Context = SYSTEM, support: bool = False
) -> None:
    """Mail a new activation link to this account (the support's button): refused when the
    account is activated already, or closed. `actor` is who asks (an agent), None for the system;
    `support` marks the one event of the action as the support's (the agents' journal shows it).
    """
    with transaction.atomic():
        locked = _lock_user(user)
        if locked.email_verified_at is not None:
            raise Refusal(ALREADY_ACTIVATED)
        if not locked.is_active:
            raise Refusal(DEACTIVATED)
        _send_activation_link(locked)
        record(
            "account.activation_resent",
            actor=actor,
            target=locked,
            context=context,
            data={"support": True} if support else None,
        )


def activate(token: str, *, context: Context = SYSTEM) -> User:
    """Use an activation link: the address is verified, every activation link of it is spent."""
    with transaction.atomic():
        found = find_token(token, AccountToken.Purpose.ACTIVATION, lock=True)
        user = _lock_user(found.user)
        now = timezone.now()
        _burn_tokens(user, AccountToken.Purpose.ACTIVATION, now)
        if user.email_verified_at is None:
            user.email_verified_at = now
            user.save(update_fields=["email_verified_at"])
        logger.info("Account %s activated", user.pk)
        _journal("account.activated", user, context)
        return user


# --- login events -------------------------------------------------------------------------------


def log_in(
    user: User, open_session: Callable[[], None], *, browser: str, context: Context = SYSTEM
) -> str:
    """Open the session of an account whose password was checked, journal the login, and note
    the browser it came from (`browser`: its cookie's token, "" if none); returns the token the
    browser keeps (`user_sessions.note_login_browser`: a new browser's owner is told).

    `open_session` is the view's call to Django's `login(request, user)`: it needs the request
    (a new session key, no fixation; `last_login` written by Django's `update_last_login`
    receiver), and whatever the view writes with it (the password login's rate-limit slots given
    back, its session's row written at once). It runs here, inside this transaction, so that the
    session row, `last_login`, the audit event and a new browser's row, journal line and email
    commit together or not at all (one transaction, no longer two); the flow never sees the
    request itself.
    """
    with transaction.atomic():
        open_session()
        record_login(user, context=context)
        return note_login_browser(user, browser, context=context)


def record_login(user: User, *, context: Context = SYSTEM) -> None:
    """The journal line of a login; `log_in` writes it."""
    logger.info("Account %s logged in", user.pk)
    _journal("account.login", user, context)


def record_login_failure(email: str, reason: str, *, context: Context = SYSTEM) -> None:
    """A refused login. `reason`: "credentials", "not_activated", "rate_limited"."""
    user = User.objects.filter(email__iexact=User.objects.normalize_email(email)).first()
    logger.warning(
        "Login refused (%s) for %s", reason, f"account {user.pk}" if user else "an unknown address"
    )
    record(
        "account.login_failed",
        target=user,
        context=context,
        data={"email": User.objects.normalize_email(email)[:254], "reason": reason},
    )


def record_logout(user: User, *, context: Context = SYSTEM, reason: str = "") -> None:
    """`reason`: why the portal ended the session itself (a démarche asked for a new login)."""
    _journal("account.logout", user, context, {"reason": reason} if reason else None)


# --- password -----------------------------------------------------------------------------------


def request_password_reset(email: str, *, context: Context = SYSTEM) -> None:
    """Mail a reset link (valid 1 hour) when `email` has an account; else nothing, silently."""
    email = User.objects.normalize_email(email)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email, is_active=True).first()
        if user is None:
            return
        token = _issue_token(user, AccountToken.Purpose.PASSWORD_RESET, PASSWORD_RESET_VALIDITY)
        send_email(
            "accounts/emails/password_reset",
            user.email,
            {"user": user, "link": _link(AccountToken.Purpose.PASSWORD_RESET, token)},
            category=EMAIL_CATEGORY,
        )
        record("account.password_reset_requested", target=user, context=context)


def reset_password(token: str, new_password: str, *, context: Context = SYSTEM) -> User:
    """Set a new password from a reset link. Every session of the account ends (Django checks the
    password hash held in each session); the owner gets a notice."""
    with transaction.atomic():
        found = find_token(token, AccountToken.Purpose.PASSWORD_RESET, lock=True)
        user = _lock_user(found.user)
        now = timezone.now()
        _burn_tokens(user, AccountToken.Purpose.PASSWORD_RESET, now)
        user.set_password(new_password)
        fields = ["password"]
        if user.email_verified_at is None:  # the link proved the address
            user.email_verified_at = now
            fields.append("email_verified_at")
        user.save(update_fields=fields)
        _send_password_changed_notice(user)
        logger.info("Account %s reset its password", user.pk)
        _journal("account.password_reset", user, context)
        return user


def change_password(user: User, new_password: str, *, context: Context = SYSTEM) -> None:
    """From "Mon compte". The view keeps the current session (`update_session_auth_hash`); every
    other one ends, their hash no longer matching."""
    with transaction.atomic():
        locked = _lock_user(user)
        locked.set_password(new_password)
        locked.save(update_fields=["password"])
        _send_password_changed_notice(locked)
        _journal("account.password_changed", locked, context)
    user.password = locked.password


# --- profile and email --------------------------------------------------------------------------

PROFILE_FIELDS = ("civilite", "last_name", "first_name", "phone")


def update_profile(
    user: User, changes: Mapping[str, Any], *, context: Context = SYSTEM
) -> list[str]:
    """Civilité, nom, prénom, téléphone. Returns the names of the fields that changed."""
    with transaction.atomic():
        locked = _lock_user(user)
        changed = [f for f in PROFILE_FIELDS if f in changes and getattr(locked, f) != changes[f]]
        for field in changed:
            setattr(locked, field, changes[field])
            setattr(user, field, changes[field])
        if changed:
            locked.save(update_fields=changed)
            _journal("account.profile_updated", locked, context, {"fields": changed})
        return changed


def request_email_change(user: User, new_email: str, *, context: Context = SYSTEM) -> None:
    """Mail a confirmation link to the new address and a notice to the current one.

    When the new address already has an account, its owner is told instead; the person asking
    sees the same message (no enumeration).
    """
    new_email = User.objects.normalize_email(new_email)
    with transaction.atomic():
        locked = _lock_user(user)
        taken = User.objects.filter(email__iexact=new_email).exclude(pk=locked.pk).exists()
        if taken:
            send_email(
                "accounts/emails/email_change_taken",
                new_email,
                {"user": locked},
                category=EMAIL_CATEGORY,
            )
        else:
            token = _issue_token(
                locked, AccountToken.Purpose.EMAIL_CHANGE, EMAIL_CHANGE_VALIDITY, new_email
            )
            send_email(
                "accounts/emails/email_change_confirm",
                new_email,
                {
                    "user": locked,
                    "link": _link(AccountToken.Purpose.EMAIL_CHANGE, token),
                    "hours": 48,
                },
                category=EMAIL_CATEGORY,
            )
        send_email(
            "accounts/emails/email_change_notice",
            locked.email,
            {"user": locked, "new_email": new_email},
            category=EMAIL_CATEGORY,
        )
        _journal("account.email_change_requested", locked, context, {"new_email": new_email})


def confirm_email_change(token: str, *, context: Context = SYSTEM) -> User:
    with transaction.atomic():
        found = find_token(token, AccountToken.Purpose.EMAIL_CHANGE, lock=True)
        user = _lock_user(found.user)
        new_email = found.new_email
        if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
            raise EmailAlreadyUsedError()
        now = timezone.now()
        _burn_tokens(user, AccountToken.Purpose.EMAIL_CHANGE, now)
        old_email = user.email
        user.email = new_email
        user.email_verified_at = now
        user.save(update_fields=["email", "email_verified_at"])
        send_email(
            "accounts/emails/email_changed",
            old_email,
            {"user": user, "new_email": new_email},
            category=EMAIL_CATEGORY,
        )
        _journal(
            "account.email_changed", user, context, {"old_email": old_email, "new_email": new_email}
        )
        return user


# --- deletion -----------------------------------------------------------------------------------


def sole_gestionnaire_of(user: User) -> list[Habilitation]:
    """The live gestionnaire habilitations of `user` that nobody else shares (démarche × site)."""
    managing = (
        Habilitation.objects.active()
        .managing()
        .filter(user=user)
        .select_related("demarche", "establishment")
    )
    alone = []
    for habilitation in managing:
        others = (
            Habilitation.objects.active()
            .managing()
            .for_demarche(habilitation.demarche)
            .for_establishment(habilitation.establishment)
            .exclude(user=user)
            .filter(user__is_active=True)
            .exists()
        )
        if not others:
            alone.append(habilitation)
    return alone


def lock_gestionnaires_around(user: User) -> None:
    """Lock the live gestionnaire habilitations of the establishments `user` manages, the rows
    `sole_gestionnaire_of` reads, so that two gestionnaires of the same establishment cannot both
    leave (close their account, be deactivated) at the same time. Inside a transaction."""
    sites = list(
        Habilitation.objects.active()
        .managing()
        .filter(user=user)
        .values_list("establishment_id", flat=True)
    )
    list(
        Habilitation.objects.select_for_update(of=("self",))
        .active()
        .managing()
        .filter(establishment_id__in=sites)
        .order_by("pk")  # one locking order
        .values_list("pk", flat=True)
    )


def delete_account(user: User, *, context: Context = SYSTEM) -> None:
    """Close the account: habilitations revoked, personal data wiped, the row kept anonymous so
    the journal and the démarches' history still hold together (decision 0004).

    Refused while the person is the only gestionnaire of a démarche for an establishment.
    """
    with transaction.atomic():
        locked = _lock_user(user)
        lock_gestionnaires_around(locked)
        blockers = sole_gestionnaire_of(locked)
        if blockers:
            raise AccountDeletionRefusedError(blockers)
        held = list(Habilitation.objects.active().filter(user=locked).order_by("demarche_id", "pk"))
        lock_feeds(h.demarche_id for h in held)
        for habilitation in held:
            revoke_habilitation(
                actor=locked, habilitation=habilitation, reason="Compte supprimé", context=context
            )
        _journal("account.deleted", locked, context)
        send_email(
            "accounts/emails/account_deleted",
            locked.email,
            {"user": locked},
            category=EMAIL_CATEGORY,
        )
        AccountToken.objects.filter(user=locked).delete()
        locked.email = f"supprime-{uuid.uuid4().hex}@compte-supprime.invalid"
        locked.civilite = ""
        locked.first_name = ""
        locked.last_name = "Compte supprimé"
        locked.phone = ""
        locked.declared_address = ""
        locked.is_active = False
        locked.set_unusable_password()
        locked.save()
        # Its sessions die at their next request (the password hash changed); the apps above
        # hear of it now: tokens revoked, démarches sent a logout (portail.oidc).
        open_sessions = list(UserSession.objects.filter(user=locked).values_list("pk", flat=True))
        if open_sessions:
            session_ending.send(sender=UserSession, user_sessions=open_sessions)


# --- "Mes données" ------------------------------------------------------------------------------


def record_data_export(user: User, fmt: str, *, context: Context = SYSTEM) -> None:
    """The journal line of a download of "Mes données" (`fmt`: "json" or "html")."""
    logger.info("Account %s downloaded its data (%s)", user.pk, fmt)
    _journal("account.data_exported", user, context, {"format": fmt})
