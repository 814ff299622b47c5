"""What the page frame shows on every page, read from the project's settings (the same four names
in the portal's settings and in CERES')."""

from django.conf import settings
from django.http import HttpRequest


def page(request: HttpRequest) -> dict[str, str]:
    return {
        "SERVICE_NAME": settings.SERVICE_NAME,
        "SERVICE_TAGLINE": settings.SERVICE_TAGLINE,
        "APP_VERSION": settings.APP_VERSION,
        "ENVIRONMENT": settings.ENVIRONMENT,
    }
