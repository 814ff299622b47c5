"""Second factors of an account, one function per change: a TOTP app added, checked, removed;
recovery codes drawn; every factor reset by the support. Passkeys: `portail.accounts.passkeys`.

TOTP apps are django-otp's `TOTPDevice` rows (the agents' too), named by the person; a code is
accepted once (django-otp keeps the last accepted time step, `last_t`). Recovery codes are
stored as keyed hashes (portail.core.secrets) and used once. A refused code is journaled and
committed (the failure must count); the rate limits per account are the views'.
"""

from __future__ import annotations

import base64
import io
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts.factor_models import Passkey, RecoveryCode
from portail.audit.journal import record
from portail.core.context import SYSTEM, Context
from portail.core.refusals import Refusal
from portail.core.secrets import keyed_hash
from portail.notifications.emails import send_email

if TYPE_CHECKING:
    from portail.accounts.models import User

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 signs, no 0/O nor 1/I
RECOVERY_PURPOSE = "accounts:recovery-code"
TOTP_STEP, TOTP_DIGITS, TOTP_TOLERANCE = 30, 6, 1

BAD_CODE = "Code incorrect, expiré ou déjà utilisé. Saisissez le code affiché maintenant."
LAST_FACTOR = (
    "C'est votre dernier moyen de vérification : saisissez un code de cette application "
    "(ou un code de secours) pour confirmer sa suppression."
)
LAST_PASSKEY = (
    "C'est votre dernier moyen de vérification : confirmez d'abord votre identité avec cette "
    "clé d'accès (ou un code de secours)."
)
NAME_TAKEN = "Vous avez déjà un moyen de vérification de ce nom : choisissez-en un autre."


class WrongCode(Refusal):
    """A second-factor code refused (wrong, expired, replayed, used)."""

    def __init__(self, message: str = BAD_CODE) -> None:
        super().__init__(message, field="code")


@dataclass(frozen=True)
class Factors:
    """What "Double authentification" lists."""

    totp: list[TOTPDevice]
    passkeys: list[Passkey]
    recovery_left: int

    @property
    def count(self) -> int:
        return len(self.totp) + len(self.passkeys)


def _totp_devices(user: User) -> QuerySet[TOTPDevice]:
    devices: QuerySet[TOTPDevice] = TOTPDevice.objects.filter(user=user, confirmed=True)
    return devices


def has_second_factor(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or user.pk is None:
        return False
    # The login's account was read with the answer (`UserManager.get_by_natural_key`).
    known = getattr(user, "second_factor_at_read", None)
    if known is not None:
        return bool(known)
    # One query: an app or a passkey.
    return (
        get_user_model()
        .objects.filter(pk=user.pk)
        .filter(
            Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
            | Exists(Passkey.objects.filter(user=OuterRef("pk")))
        )
        .exists()
    )


def factors_of(user: User) -> Factors:
    return Factors(
        totp=list(_totp_devices(user).order_by("created_at", "pk")),
        passkeys=list(Passkey.objects.filter(user=user)),
        recovery_left=RecoveryCode.objects.filter(user=user, used_at__isnull=True).count(),
    )


def _journal(action: str, user: User, context: Context, **data: Any) -> None:
    record(action, actor=user, target=user, context=context, data=data)


# --- TOTP: enrolment ----------------------------------------------------------------------------


def new_totp_key() -> str:
    """A fresh 160-bit secret (hex, as TOTPDevice stores it); kept in the session until the
    person proves their app has it."""
    return secrets.token_hex(20)


def secret_text(key_hex: str) -> str:
    """The secret in base32 as authenticator apps ask for it, by groups of four."""
    b32 = base64.b32encode(bytes.fromhex(key_hex)).decode().rstrip("=")
    return " ".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def otpauth_uri(user: User, key_hex: str) -> str:
    issuer = settings.MFA_TOTP_ISSUER
    label = quote(f"{issuer}:{user.email}")
    secret = secret_text(key_hex).replace(" ", "")
    query = urlencode({"secret": secret, "issuer": issuer, "digits": TOTP_DIGITS})
    return f"otpauth://totp/{label}?{query}"


def qr_code_data_uri(uri: str) -> str:
    """The otpauth URI as an SVG QR code, in a data: URI (the CSP allows data: images)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _clean(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").upper()


def name_taken(user: User, name: str) -> bool:
    return bool(
        _totp_devices(user).filter(name__iexact=name).exists()
        or Passkey.objects.filter(user=user, name__iexact=name).exists()
    )


def add_totp(
    user: User, key_hex: str, code: str, name: str, *, context: Context = SYSTEM
) -> list[str]:
    """Confirm a new TOTP app with a code it shows, and keep it under `name`. Returns the
    recovery codes drawn for an account that had none left (to show once), else []."""
    code = _clean(code)
    totp = TOTP(bytes.fromhex(key_hex), step=TOTP_STEP, digits=TOTP_DIGITS)
    if not (code.isdigit() and len(code) == TOTP_DIGITS and totp.verify(int(code), TOTP_TOLERANCE)):
        with transaction.atomic():
            _journal("account.mfa.enrolment_failed", user, context, factor="totp")
        raise WrongCode
    with transaction.atomic():
        lock_account(user)
        if name_taken(user, name):
            raise Refusal(NAME_TAKEN, field="name")
        TOTPDevice.objects.create(
            user=user,
            name=name,
            key=key_hex,
            step=TOTP_STEP,
            digits=TOTP_DIGITS,
            tolerance=TOTP_TOLERANCE,
            confirmed=True,
            last_t=totp.t(),  # the code just typed cannot serve again
        )
        _journal("account.mfa.enrolled", user, context, factor="totp", name=name)
        return first_recovery_codes(user, context)


def lock_account(user: User) -> None:
    # One change of factors at a time per account (the "last factor" rule reads them all).
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


# --- recovery codes -----------------------------------------------------------------------------


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12))  # 60 bits
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _recovery_hash(code: str) -> str:
    return keyed_hash(_clean(code), RECOVERY_PURPOSE)


def _draw_recovery_codes(user: User, context: Context) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_recovery_hash(code)) for code in codes
    )
    _journal("account.mfa.recovery_codes_drawn", user, context, count=RECOVERY_CODES)
    return codes


def first_recovery_codes(user: User, context: Context) -> list[str]:
    if RecoveryCode.objects.filter(user=user, used_at__isnull=True).exists():
        return []
    return _draw_recovery_codes(user, context)


def regenerate_recovery_codes(user: User, *, context: Context = SYSTEM) -> list[str]:
    """Ten new codes; the old ones stop working."""
    with transaction.atomic():
        lock_account(user)
        return _draw_recovery_codes(user, context)


# --- checking a code (login, step-up, removal of the last factor) -------------------------------


def _verify_totp(devices: QuerySet[TOTPDevice], code: str) -> TOTPDevice | None:
    """The device that shows `code` now, its step recorded; None if none does.

    Like `TOTPDevice.verify_token`, without django-otp's own throttle, whose waits double without
    bound (a lock, in effect): the views' per-account limiter (portail.core.ratelimit) caps them.
    A time step at or before `last_t` is refused: a replayed code fails here."""
    if not (code.isdigit() and len(code) == TOTP_DIGITS):
        return None
    for device in devices.select_for_update().order_by("pk"):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        if totp.verify(int(code), device.tolerance, device.last_t + 1):
            device.last_t = totp.t()
            device.last_used_at = timezone.now()
            device.save(update_fields=["last_t", "last_used_at"])
            return device
    return None


def check_code(
    user: User, code: str, *, purpose: str, context: Context = SYSTEM, device_pk: int | None = None
) -> str:
    """Check a TOTP code (of `device_pk` only, when given) or a recovery code; returns the RFC
    8176 method ("otp"). `purpose`: "login", "step_up", "removal". Raises WrongCode."""
    code = _clean(code)
    with transaction.atomic():
        devices = _totp_devices(user)
        if device_pk is not None:
            devices = devices.filter(pk=device_pk)
        device = _verify_totp(devices, code)
        used = None
        if device is None and len(code) == 12:
            used = (
                RecoveryCode.objects.select_for_update()
                .filter(user=user, used_at__isnull=True, code_hash=_recovery_hash(code))
                .first()
            )
            if used is not None:
                used.used_at = timezone.now()
                used.save(update_fields=["used_at"])
        if device is None and used is None:
            _journal("account.mfa.failed", user, context, purpose=purpose)
        elif device is not None:
            _journal("account.mfa.used", user, context, factor="totp", purpose=purpose)
        else:
            left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
            _journal(
                "account.mfa.recovery_code_used", user, context, purpose=purpose, remaining=left
            )
    if device is None and used is None:
        raise WrongCode
    return "otp"


# --- removal ------------------------------------------------------------------------------------


def remove_factor(
    user: User,
    kind: str,
    pk: int,
    *,
    code: str = "",
    proved: bool = False,
    context: Context = SYSTEM,
) -> None:
    """Remove a TOTP app ("totp") or a passkey ("passkey"). The last one goes only with proof:
    a code of that app or a recovery code (`code`), or a passkey check just made (`proved`).
    Without any factor left, the recovery codes go too."""
    with transaction.atomic():
        lock_account(user)
        factor: TOTPDevice | Passkey
        if kind == "totp":
            factor = _totp_devices(user).get(pk=pk)
        else:
            factor = Passkey.objects.get(user=user, pk=pk)
        last = factors_of(user).count == 1
    if last and not proved:
        if not code:
            raise Refusal(LAST_FACTOR if kind == "totp" else LAST_PASSKEY, field="code")
        check_code(
            user,
            code,
            purpose="removal",
            context=context,
            device_pk=pk if kind == "totp" else -1,  # a passkey: only a recovery code
        )
    with transaction.atomic():
        lock_account(user)
        factor.delete()
        if last:
            RecoveryCode.objects.filter(user=user).delete()
        _journal("account.mfa.removed", user, context, factor=kind, name=factor.name, last=last)


def reset_factors(user: User, *, actor: User, reason: str, context: Context = SYSTEM) -> int:
    """The support removes every factor of an account (a lost telephone), with a reason; the
    person is told by email. Returns how many factors went."""
    with transaction.atomic():
        lock_account(user)
        count = factors_of(user).count
        _totp_devices(user).delete()
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        Passkey.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        record(
            "account.mfa.reset",
            actor=actor,
            target=user,
            context=context,
            data={"reason": reason, "factors": count},
        )
        send_email(
            "accounts/emails/mfa_reset",
            user.email,
            {
                "user": user,
                "link": f"{settings.PORTAL_BASE_URL}/mon-compte/double-authentification/",
            },
            category="account",
        )
    return count
