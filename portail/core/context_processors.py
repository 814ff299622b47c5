from django.conf import settings


def portal(request):
    return {
        "SERVICE_NAME": settings.SERVICE_NAME,
        "SERVICE_TAGLINE": settings.SERVICE_TAGLINE,
        "APP_VERSION": settings.APP_VERSION,
        "ENVIRONMENT": settings.ENVIRONMENT,
    }
