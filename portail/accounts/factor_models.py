"""The second factors of an account, besides its TOTP apps (django-otp's `TOTPDevice`, named by
the person): recovery codes and passkeys (WebAuthn). Imported by `portail.accounts.models`."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class RecoveryCode(models.Model):
    """One of the ten codes shown once at enrolment; stored as a keyed hash, used once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "code de secours"
        indexes = [models.Index(fields=["user", "used_at"])]

    def __str__(self) -> str:
        return f"Code de secours de {self.user_id}"


class Passkey(models.Model):
    """A WebAuthn credential (a passkey, a security key): its public key and signature counter."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys"
    )
    name = models.CharField("nom", max_length=64)
    # base64url of the credential id (at most 1,023 bytes: WebAuthn Level 3 §5.8.3).
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    # "multi_device" (synced passkey) or "single_device" (a hardware key): amr swk or hwk.
    device_type = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "clé d'accès"
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def amr(self) -> str:
        """RFC 8176: a key bound to one device is hardware-held; a synced one is software."""
        return "hwk" if self.device_type == "single_device" else "swk"
