"""Habilitations re-read from the portal at least every CERES_RECHECK_SECONDS (10 minutes).

mozilla-django-oidc's SessionRefresh sends the person, once the delay is over, through a silent
authorization request (prompt=none): the portal answers at once with a new code while its own
session lives, and the callback reads the claims again — a revoked habilitation is gone. When the
portal session has ended, the portal answers login_required and CERES signs the person out.
"""

from django.http import HttpRequest
from mozilla_django_oidc.middleware import SessionRefresh


class HabilitationsRefresh(SessionRefresh):
    def is_refreshable_url(self, request: HttpRequest) -> bool:
        if request.path.startswith("/static/"):
            return False
        return bool(super().is_refreshable_url(request))
