from django.conf import settings
from django.http import HttpRequest


def ceres(request: HttpRequest) -> dict[str, str]:
    """What the page frame (dsfr_layout) and CERES' own templates read on every page."""
    return {
        "SERVICE_NAME": settings.SERVICE_NAME,
        "SERVICE_TAGLINE": settings.SERVICE_TAGLINE,
        "APP_VERSION": settings.APP_VERSION,
        "ENVIRONMENT": settings.ENVIRONMENT,
        "PORTAL_URL": settings.PORTAL_URL,
        "PORTAL_MES_DEMARCHES_URL": settings.PORTAL_MES_DEMARCHES_URL,
    }
