"""Agents' sign-in: email + password, then a TOTP code (django-otp), enrolled at first login.

The password step does not log the person in: it leaves a short-lived "pending agent" mark in
the session. Only a valid TOTP code logs them in (`django.contrib.auth.login` then
`django_otp.login`), so an agent's session is always OTP-verified. A code already accepted is
refused (django-otp keeps the last accepted time step, `last_t`). Both steps are rate-limited.
"""

import base64
import io
import time

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.audit.journal import record
from portail.backoffice.access import agent_profile_of
from portail.core.client_ip import client_ip
from portail.core.context import context_of
from portail.core.ratelimit import Limiter, format_wait

PENDING_KEY = "backoffice_pending_agent"
PENDING_SECONDS = 5 * 60
DEVICE_NAME = "Application d’authentification"

PASSWORD_LIMITER = Limiter("agent-login", limit=5, window=15 * 60, base_wait=60)
PASSWORD_IP_LIMITER = Limiter("agent-login-ip", limit=30, window=15 * 60, base_wait=60)
OTP_LIMITER = Limiter("agent-otp", limit=5, window=15 * 60, base_wait=60)

BAD_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."
BAD_CODE = "Ce code n’est pas valide ou a déjà été utilisé. Saisissez le code affiché maintenant par votre application."
EXPIRED_STEP = "Votre saisie a expiré : recommencez la connexion."


class AgentLoginError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def too_many(wait: int) -> AgentLoginError:
    return AgentLoginError(f"Trop de tentatives. Réessayez dans {format_wait(wait)}.")


def check_password(request, email: str, password: str):
    """First step. Returns the agent user, or raises AgentLoginError (one message for all)."""
    email = (email or "").strip().lower()
    ip = client_ip(request) or "-"
    for limiter, subject in ((PASSWORD_LIMITER, email), (PASSWORD_IP_LIMITER, ip)):
        if limiter.is_blocked(subject):
            raise too_many(limiter.wait_seconds(subject))
    user = authenticate(request, username=email, password=password)
    if user is None or agent_profile_of(user) is None:
        # A portal user who is no agent gets the very same answer as a wrong password.
        waits = [PASSWORD_LIMITER.fail(email), PASSWORD_IP_LIMITER.fail(ip)]
        if max(waits):
            raise too_many(max(waits))
        raise AgentLoginError(BAD_CREDENTIALS)
    request.session.cycle_key()
    request.session[PENDING_KEY] = {"user": user.pk, "at": time.time()}
    return user


def pending_agent(request):
    """The agent who passed the password step in this session, still within its delay."""
    from portail.accounts.models import User

    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None or agent_profile_of(user) is None:
        return None
    return user


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def enrolment_device(user) -> TOTPDevice:
    """The unconfirmed device shown at first login (the same one on every reload)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32 as authenticator apps ask for it, by groups of four."""
    b32 = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def otpauth_uri(device: TOTPDevice) -> str:
    return device.config_url


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth URI as an SVG QR code, in a data: URI (the CSP allows data: images)."""
    image = qrcode.make(otpauth_uri(device), image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def verify_code(request, user, token: str, *, enrolling: bool) -> TOTPDevice:
    """Second step: check the code and log the agent in. Raises AgentLoginError."""
    subject = str(user.pk)
    if OTP_LIMITER.is_blocked(subject):
        raise too_many(OTP_LIMITER.wait_seconds(subject))
    token = "".join((token or "").split())
    with transaction.atomic():
        devices = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=not enrolling)
        device = devices.order_by("pk").first()
        # verify_token refuses a time step at or before `last_t`: a replayed code fails here.
        verified = (
            device is not None
            and token.isdigit()
            and len(token) == device.digits
            and device.verify_token(token)
        )
        if verified:
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                record(
                    "backoffice.agent.otp_enrolled",
                    actor=user,
                    target=user,
                    context=context_of(request),
                )
            request.session.pop(PENDING_KEY, None)
            auth_login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            django_otp.login(request, device)
            record("backoffice.agent.login", actor=user, target=user, context=context_of(request))
        else:
            # Committed, not rolled back with an exception: the failure must count.
            record(
                "backoffice.agent.otp_failed",
                actor=user,
                target=user,
                context=context_of(request),
                data={"enrolling": enrolling},
            )
    if device is None:
        raise AgentLoginError(EXPIRED_STEP)
    if not verified:
        wait = OTP_LIMITER.fail(subject)
        if wait:
            raise too_many(wait)
        raise AgentLoginError(BAD_CODE)
    OTP_LIMITER.reset(subject)
    return device
