"""The client's address, as the reverse proxy saw it (see docs/deploy.md, TRUSTED_PROXY_COUNT)."""

from django.conf import settings


def client_ip(request) -> str:
    """REMOTE_ADDR, or the address the last trusted proxy put in X-Forwarded-For."""
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if trusted:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= trusted:
            return forwarded[-trusted]
    return request.META.get("REMOTE_ADDR", "")
