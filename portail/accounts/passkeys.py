"""Passkeys (WebAuthn, with py_webauthn): registration, the check at login (second step or
alone, as a discoverable credential), the step-up; one function per ceremony's end.

The relying party is the portal's public address (settings.WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN,
from PORTAL_BASE_URL): an assertion made for another origin, for another account, or altered on
the way is refused (py_webauthn checks the challenge, origin, RP id hash, flags and signature;
we check whose credential it is). Each challenge serves once (the views keep it in the session).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portail.accounts import mfa
from portail.accounts.factor_models import Passkey
from portail.audit.journal import record
from portail.core.context import SYSTEM, Context
from portail.core.refusals import Refusal

if TYPE_CHECKING:
    from portail.accounts.models import User

NOT_REGISTERED = (
    "La clé d'accès n'a pas pu être enregistrée (réponse de l'appareil non valide ou "
    "expirée). Recommencez."
)
REFUSED = "Cette clé d'accès n'a pas été reconnue. Réessayez, ou utilisez un code."
TIMEOUT_MS = 120_000


@dataclass(frozen=True)
class Checked:
    """A passkey assertion verified: whose, which key, and the RFC 8176 methods it proves."""

    user: User
    passkey: Passkey
    amr: list[str]


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for value in passkey.transports or []:
        try:
            transports.append(AuthenticatorTransport(value))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id), transports=transports or None
    )


def registration_options(user: User) -> tuple[str, bytes]:
    """The options of `navigator.credentials.create` (JSON) and their challenge."""
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        rp_name=settings.SERVICE_NAME,
        user_id=user.public_id.bytes,
        user_name=user.email,
        user_display_name=user.get_full_name() or user.email,
        timeout=TIMEOUT_MS,
        # Discoverable: the key alone can sign in ("Se connecter avec une clé d'accès").
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(p) for p in Passkey.objects.filter(user=user)],
    )
    return options_to_json(options), options.challenge


def add_passkey(
    user: User, credential: str, challenge: bytes, name: str, *, context: Context = SYSTEM
) -> list[str]:
    """Verify the new credential and keep it under `name`; returns the recovery codes drawn
    for an account that had none left (shown once), else []."""
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=settings.WEBAUTHN_ORIGIN,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        with transaction.atomic():
            record(
                "account.mfa.enrolment_failed",
                actor=user,
                target=user,
                context=context,
                data={"factor": "passkey", "error": type(error).__name__},
            )
        raise Refusal(NOT_REGISTERED) from None
    transports = _transports(credential)
    with transaction.atomic():
        mfa.lock_account(user)
        if mfa.name_taken(user, name):
            raise Refusal(mfa.NAME_TAKEN, field="name")
        Passkey.objects.create(
            user=user,
            name=name,
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=transports,
            device_type=verified.credential_device_type.value,
        )
        record(
            "account.mfa.enrolled",
            actor=user,
            target=user,
            context=context,
            data={"factor": "passkey", "name": name},
        )
        return mfa.first_recovery_codes(user, context)


def _transports(credential: str) -> list[str]:
    try:
        found = json.loads(credential).get("response", {}).get("transports") or []
    except (ValueError, AttributeError):
        return []
    return [str(t) for t in found][:8]


def authentication_options(user: User | None) -> tuple[str, bytes]:
    """The options of `navigator.credentials.get`: the account's keys, or none at all for a
    discoverable login (the browser offers the keys it holds for this site)."""
    allowed = [_descriptor(p) for p in Passkey.objects.filter(user=user)] if user else []
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        timeout=TIMEOUT_MS,
        allow_credentials=allowed,
        user_verification=(
            UserVerificationRequirement.PREFERRED if user else UserVerificationRequirement.REQUIRED
        ),
    )
    return options_to_json(options), options.challenge


def _credential_id(credential: str) -> str:
    try:
        data: dict[str, Any] = json.loads(credential)
        value = data.get("rawId") or data.get("id") or ""
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


def check_passkey(
    credential: str,
    challenge: bytes,
    *,
    user: User | None,
    purpose: str,
    context: Context = SYSTEM,
) -> Checked:
    """Verify an assertion. `user`: the account it must belong to (second step, step-up,
    removal); None for a login with the key alone, which must have verified the person (PIN,
    biometrics). `purpose`: "login", "passwordless", "step_up", "removal". Refuses with
    `mfa.WrongCode` (counted by the views' limiter)."""
    credential_id = _credential_id(credential)
    with transaction.atomic():
        passkey = (
            Passkey.objects.select_for_update()
            .select_related("user")
            .filter(credential_id=credential_id)
        ).first()
        owner = passkey.user if passkey is not None else None
        reason = ""
        if passkey is None or owner is None or not owner.is_active:
            reason = "unknown_credential"
        elif user is not None and owner.pk != user.pk:
            reason = "another_account"
        else:
            try:
                verified = verify_authentication_response(
                    credential=credential,
                    expected_challenge=challenge,
                    expected_rp_id=settings.WEBAUTHN_RP_ID,
                    expected_origin=settings.WEBAUTHN_ORIGIN,
                    credential_public_key=bytes(passkey.public_key),
                    credential_current_sign_count=passkey.sign_count,
                    require_user_verification=user is None,
                )
            except (WebAuthnException, ValueError, KeyError, TypeError) as error:
                reason = type(error).__name__
        subject = user or owner
        if reason:
            record(
                "account.mfa.failed",
                actor=subject,
                target=subject,
                context=context,
                data={"factor": "passkey", "purpose": purpose, "reason": reason},
            )
    if reason or passkey is None or owner is None:
        raise mfa.WrongCode(REFUSED)
    with transaction.atomic():
        passkey.sign_count = verified.new_sign_count
        passkey.last_used_at = timezone.now()
        passkey.save(update_fields=["sign_count", "last_used_at"])
        record(
            "account.mfa.used",
            actor=owner,
            target=owner,
            context=context,
            data={"factor": "passkey", "purpose": purpose, "name": passkey.name},
        )
    amr = [passkey.amr, "user"] if verified.user_verified else [passkey.amr]
    return Checked(user=owner, passkey=passkey, amr=amr)
