from django.conf import settings
from django.http import HttpRequest


def ceres(request: HttpRequest) -> dict[str, str]:
    return {
        "APP_VERSION": settings.APP_VERSION,
        "ENVIRONMENT": settings.ENVIRONMENT,
        "PORTAL_URL": settings.PORTAL_URL,
        "PORTAL_MES_DEMARCHES_URL": settings.PORTAL_MES_DEMARCHES_URL,
    }
