from django.conf import settings
from django.http import HttpRequest


def ceres(request: HttpRequest) -> dict[str, str]:
    """Where CERES' pages lead back to the portal (the page frame's own values come from
    dsfr_layout.context_processors.page)."""
    return {
        "PORTAL_URL": settings.PORTAL_URL,
        "PORTAL_MES_DEMARCHES_URL": settings.PORTAL_MES_DEMARCHES_URL,
    }
