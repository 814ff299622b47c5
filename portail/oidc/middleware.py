"""Let the portal's login form lead on to the démarche the person is signing in to.

Browsers apply a page's Content-Security-Policy `form-action` to every redirect that follows a
form submission. Signing in to a démarche is exactly such a chain: the login form is posted,
the portal redirects to /o/authorize/, which redirects to the démarche's callback on another
origin. With `form-action 'self'` the browser stops at that last hop.

When a page is served with `next` pointing to the authorization endpoint, this adds to its
`form-action` the origin of that request's redirect URI, once checked against the client's
registered URIs (never an origin taken blindly from the query string). Every other page keeps
`form-action 'self'`, and costs nothing.
"""

from urllib.parse import parse_qs, urlsplit

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from oauth2_provider.models import get_application_model

from portail.core.middleware import GetResponse

AUTHORIZE_PATH = "/o/authorize/"


def registered_origin(next_url: str) -> str | None:
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or parts.path != AUTHORIZE_PATH:
        return None
    query = parse_qs(parts.query)
    client_id = (query.get("client_id") or [""])[0]
    redirect_uri = (query.get("redirect_uri") or [""])[0]
    if not client_id or not redirect_uri:
        return None
    application = get_application_model().objects.filter(client_id=client_id).first()
    if application is None or not application.redirect_uri_allowed(redirect_uri):
        return None
    target = urlsplit(redirect_uri)
    return f"{target.scheme}://{target.netloc}"


def add_form_action(response: HttpResponseBase, origin: str) -> None:
    """Let the page's form lead to `origin` too (django-csp reads `_csp_update`)."""
    update = dict(getattr(response, "_csp_update", None) or {})
    update["form-action"] = [*update.get("form-action", []), origin]
    response._csp_update = update  # type: ignore[attr-defined]  # django-csp's attribute


class AuthorizationFormActionMiddleware:
    """Listed after portail.core.middleware.CSPMiddleware, so it runs before it on the way out."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # The answer's type first: a machine's request (/o/token/, JSON) has no form to allow.
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        next_url = request.GET.get("next", "")
        if not next_url and request.method == "POST":
            next_url = request.POST.get("next", "")
        if next_url.startswith(AUTHORIZE_PATH):
            origin = registered_origin(next_url)
            if origin:
                add_form_action(response, origin)
        return response
