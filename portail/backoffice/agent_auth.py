"""Agents' sign-in, the session side: email + password, then a TOTP code (django-otp).

The password step does not log the person in: it leaves a short-lived "pending agent" mark in
the session. Only a valid TOTP code logs them in (`django.contrib.auth.login` then
`django_otp.login`), so an agent's session is always OTP-verified. A code already accepted is
refused (django-otp keeps the last accepted time step, `last_t`). Both steps are rate-limited.

The database and the journal (devices, enrolment, the login and failure events) are the flow
`portail.backoffice.flows.check_agent_code`; this module holds what belongs to the web session.
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
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts.models import User
from portail.backoffice import flows
from portail.backoffice.access import agent_profile_of
from portail.backoffice.flows import AgentLoginError
from portail.backoffice.limits import OTP_LIMITER, PASSWORD_IP_LIMITER, PASSWORD_LIMITER
from portail.core.client_ip import client_ip
from portail.core.context import context_of
from portail.core.ratelimit import Attempt, Limiter, LimitsUnavailable, attempt, format_wait

__all__ = ["EXPIRED_STEP", "AgentLoginError", "check_password", "pending_agent", "verify_code"]

PENDING_KEY = "backoffice_pending_agent"
PENDING_SECONDS = 5 * 60

BAD_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."
BAD_CODE = flows.BAD_CODE
EXPIRED_STEP = flows.EXPIRED_STEP


def too_many(wait: int, *, field: str | None = None) -> AgentLoginError:
    return AgentLoginError(f"Trop de tentatives. Réessayez dans {format_wait(wait)}.", field=field)


def _reserve(*slots: tuple[Limiter, str], field: str | None = None) -> Attempt:
    """The reserved slots, or AgentLoginError (too many, or the store does not answer)."""
    try:
        reserved = attempt(*slots)
    except LimitsUnavailable as refusal:
        raise AgentLoginError(refusal.message, field=field) from None
    if reserved.wait:
        raise too_many(reserved.wait, field=field)
    return reserved


def check_password(request: HttpRequest, email: str, password: str) -> User:
    """First step. Returns the agent user, or raises AgentLoginError (one message for all)."""
    email = (email or "").strip().lower()
    ip = client_ip(request) or "-"
    # A slot on both limits before the password is checked (given back when it is right).
    slots = _reserve((PASSWORD_LIMITER, email), (PASSWORD_IP_LIMITER, ip))
    user = authenticate(request, username=email, password=password)
    if not isinstance(user, User) or agent_profile_of(user) is None:
        # A portal user who is no agent gets the very same answer as a wrong password.
        wait = slots.failed()
        if wait:
            raise too_many(wait)
        raise AgentLoginError(BAD_CREDENTIALS)
    slots.succeeded()
    request.session.cycle_key()
    request.session[PENDING_KEY] = {"user": user.pk, "at": time.time()}
    return user


def pending_agent(request: HttpRequest) -> User | None:
    """The agent who passed the password step in this session, still within its delay."""
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None or agent_profile_of(user) is None:
        return None
    return user


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32 as authenticator apps ask for it, by groups of four."""
    b32 = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def otpauth_uri(device: TOTPDevice) -> str:
    uri: str = device.config_url
    return uri


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth URI as an SVG QR code, in a data: URI (the CSP allows data: images)."""
    image = qrcode.make(otpauth_uri(device), image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def verify_code(request: HttpRequest, user: User, token: str, *, enrolling: bool) -> TOTPDevice:
    """Second step: check the code (the flow) and log the agent in. Raises AgentLoginError."""
    subject = str(user.pk)
    slot = _reserve((OTP_LIMITER, subject), field="code")
    try:
        device = flows.check_agent_code(
            agent=user, token=token, enrolling=enrolling, context=context_of(request)
        )
    except flows.WrongCode:
        wait = slot.failed()
        if wait:
            raise too_many(wait, field="code") from None
        raise
    except Exception:
        slot.succeeded()  # no code was checked wrong: the slot is given back
        raise
    request.session.pop(PENDING_KEY, None)
    auth_login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    django_otp.login(request, device)
    OTP_LIMITER.reset(subject)
    return device
