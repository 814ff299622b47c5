"""Portal accounts: one per person, the email is the login."""

import uuid
from datetime import datetime
from functools import cache
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone

from portail.accounts.validators import validate_person_name
from portail.core import sql_read


def _second_factor_sql() -> RawSQL:
    """An app confirmed or a passkey, for the account of the row (plain SQL: the ORM's two
    correlated subqueries cost more to build than the statement to run)."""
    q = connection.ops.quote_name
    totp = apps.get_model("otp_totp", "TOTPDevice")._meta.db_table
    passkey = apps.get_model("accounts", "Passkey")._meta.db_table
    user = q(User._meta.db_table)
    return RawSQL(  # noqa: S611 -- names are ours, the one value a parameter
        f"EXISTS(SELECT 1 FROM {q(totp)} t WHERE t.user_id = {user}.id AND t.confirmed = %s)"  # noqa: S608 -- names are ours
        f" OR EXISTS(SELECT 1 FROM {q(passkey)} p WHERE p.user_id = {user}.id)",
        [True],
        output_field=models.BooleanField(),
    )


@cache
def account_columns(vendor: str) -> tuple[list[str], sql_read.Converters]:
    """The account's field names, in the model's order, and each column's converters for
    `vendor`: what plain statements build an account with (`User.from_db`)."""
    fields = User._meta.concrete_fields
    return [field.attname for field in fields], sql_read.converters(connection.alias, fields)


@cache
def _natural_key_statement(vendor: str) -> tuple[str, list[Any]]:
    """The account of an address with its second-factor condition, for `vendor`."""
    q = connection.ops.quote_name
    table = q(User._meta.db_table)
    columns = ", ".join(f"{table}.{q(field.column)}" for field in User._meta.concrete_fields)
    factor = _second_factor_sql()
    email = q(User._meta.get_field("email").column)
    sql = f"SELECT {columns}, {factor.sql} FROM {table} WHERE {table}.{email} = %s"  # noqa: S608
    return sql, list(factor.params)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # The whole address is lower-cased: one account per mailbox, whatever the case typed.
        return (email or "").strip().lower()

    def get_by_natural_key(self, username: str | None) -> "User":
        """The account a login names, with whether it has a second factor (an app or a passkey)
        read in the same statement: the login asks it next (`mfa.has_second_factor`).

        What `annotate(second_factor_at_read=…).get(email=…)` reads, in a statement written once
        per vendor (the ORM's compiling of it was most of its time: 1.2 ms against 0.2 ms;
        tests/accounts/test_natural_key.py compares both)."""
        email = self.normalize_email(username)
        if self.db != connection.alias:
            return self.annotate(second_factor_at_read=_second_factor_sql()).get(email=email)
        sql, params = _natural_key_statement(connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, email])
            rows = cursor.fetchmany(2)
        if not rows:
            raise self.model.DoesNotExist(
                f"{self.model._meta.object_name} matching query does not exist."
            )
        if len(rows) > 1:
            raise self.model.MultipleObjectsReturned(
                f"get() returned more than one {self.model._meta.object_name}."
            )
        names, converters = account_columns(connection.vendor)
        values = sql_read.converted(connection.alias, rows[0][:-1], converters)
        user = self.model.from_db(connection.alias, names, values)
        vars(user)["second_factor_at_read"] = bool(rows[0][-1])  # as the annotation sets it
        return user

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> "User":
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("email_verified_at", timezone.now())
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Civilite(models.TextChoices):
        MADAME = "MME", "Madame"
        MONSIEUR = "M", "Monsieur"

    class AccountType(models.TextChoices):
        PARTICULIER = "particulier", "Particulier"
        PROFESSIONNEL = "professionnel", "Professionnel"
        PARTENAIRE = "partenaire", "Partenaire"

    # `sub` of the OpenID Connect claims: stable, opaque, never the email.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("adresse électronique", max_length=254, unique=True)
    civilite = models.CharField("civilité", max_length=3, choices=Civilite.choices, blank=True)
    last_name = models.CharField(
        "nom", max_length=150, blank=True, validators=[validate_person_name]
    )
    first_name = models.CharField(
        "prénom", max_length=150, blank=True, validators=[validate_person_name]
    )
    phone = models.CharField("téléphone", max_length=32, blank=True)
    account_type = models.CharField(
        "type de compte",
        max_length=16,
        choices=AccountType.choices,
        default=AccountType.PROFESSIONNEL,
    )
    # The establishment declared at sign-up (professionnel, partenaire), and what the person typed:
    # the registry prefills these fields, the person may adjust them.
    establishment = models.ForeignKey(
        "companies.Establishment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="declared_users",
    )
    declared_siret = models.CharField("SIRET", max_length=14, blank=True, db_index=True)
    declared_siren = models.CharField("SIREN", max_length=9, blank=True, db_index=True)
    declared_company_name = models.CharField("raison sociale", max_length=255, blank=True)
    declared_address = models.CharField("adresse", max_length=255, blank=True)
    declared_commune = models.CharField("commune", max_length=255, blank=True)
    establishment_verified = models.BooleanField(default=False)

    email_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Dormancy (portail.accounts.dormancy): when the owner was warned that the account, unused for
    # DORMANT_ACCOUNT_DAYS, would be deactivated; when the agents of the region were warned (the
    # last gestionnaire of a démarche somewhere); a login clears both. `deactivated_at`: the
    # account was deactivated for dormancy (its owner may reactivate it by the emailed link);
    # `reactivated_at`: the last reactivation, which counts as a use.
    dormancy_warned_at = models.DateTimeField(null=True, blank=True)
    dormancy_agents_warned_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    reactivated_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = "utilisateur"
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")
        ]
        indexes = [
            # The invitation autocomplete searches people of one company by name.
            models.Index(fields=["declared_siren", "last_name", "first_name"]),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_professional(self) -> bool:
        return self.account_type != self.AccountType.PARTICULIER


class AccountTokenQuerySet(models.QuerySet["AccountToken"]):
    def usable(self, now: datetime | None = None) -> "AccountTokenQuerySet":
        now = now or timezone.now()
        return self.filter(used_at__isnull=True, expires_at__gt=now)

    def of_purpose(self, purpose: str) -> "AccountTokenQuerySet":
        return self.filter(purpose=purpose)


class AccountToken(models.Model):
    """A one-use link sent by email: activation, password reset, change of email address.

    Only the keyed hash of the token is stored (portail.core.secrets.keyed_hash); the token itself
    exists in the email alone.
    """

    class Purpose(models.TextChoices):
        ACTIVATION = "activation", "Activation du compte"
        PASSWORD_RESET = "password_reset", "Réinitialisation du mot de passe"
        EMAIL_CHANGE = "email_change", "Changement d’adresse électronique"
        REACTIVATION = "reactivation", "Réactivation du compte"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # For an email change: the new address, confirmed by the link sent to it.
    new_email = models.EmailField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = AccountTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "lien à usage unique"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "purpose", "used_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} — {self.user}"

    @property
    def is_used(self) -> bool:
        return self.used_at is not None

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or timezone.now())


# --- "Mes sessions et appareils" (portail/accounts/user_sessions.py) ----------------------------


class UserSession(models.Model):
    """One signed-in session of an account: the index Django's session table lacks (it cannot
    list a person's sessions). Created at login, gone with its session (the one-to-one cascades:
    logout, expiry, end). `id` is what forms carry: the session key is never shown nor logged."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="user_sessions")
    session = models.OneToOneField(
        "sessions.Session", on_delete=models.CASCADE, related_name="user_session"
    )
    browser = models.CharField("navigateur", max_length=64, blank=True)
    system = models.CharField("système", max_length=64, blank=True)
    ip_masked = models.CharField("adresse IP (masquée)", max_length=64, blank=True)
    started_at = models.DateTimeField("ouverte le", default=timezone.now)
    last_seen_at = models.DateTimeField("dernière activité", default=timezone.now)

    class Meta:
        verbose_name = "session ouverte"
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.browser or 'Navigateur inconnu'} — {self.user}"


class KnownBrowser(models.Model):
    """A browser that has signed in to an account: it holds our long-lived device cookie, whose
    keyed hash is kept here. A login from a browser without one of the account's cookies is "a
    new browser" and the owner is told."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_browsers")
    device_hash = models.CharField(max_length=64)
    browser = models.CharField("navigateur", max_length=64, blank=True)
    system = models.CharField("système", max_length=64, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "navigateur connu"
        constraints = [
            models.UniqueConstraint(fields=["user", "device_hash"], name="accounts_browser_once")
        ]

    def __str__(self) -> str:
        return f"{self.browser or 'Navigateur inconnu'} — {self.user}"


# The second factors live in their own module; Django finds models through this one.
from portail.accounts.factor_models import Passkey, RecoveryCode  # noqa: E402

__all__ = [
    "AccountToken",
    "KnownBrowser",
    "Passkey",
    "RecoveryCode",
    "User",
    "UserManager",
    "UserSession",
]
