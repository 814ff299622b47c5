"""django-oauth-toolkit's views, rendered with the portal's DSFR pages and French messages.

The behaviour is DOT's (validation, errors, redirects); only what a person may see changes.
"""

import json
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as oauth2_views
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from portail.accounts.user_sessions import USER_SESSION_KEY
from portail.oidc import session_tokens
from portail.oidc.middleware import add_form_action

# What a person reads when a démarche sends a request the portal refuses (the technical code
# stays on the page for the démarche's support). Fatal errors: never redirected to the démarche.
UNKNOWN_CLIENT = "Cette démarche n'est pas reconnue par le portail."
BAD_REDIRECT = (
    "L'adresse de retour demandée par la démarche n'est pas enregistrée auprès du portail."
)
ERROR_MESSAGES = {
    oauth_errors.InvalidClientIdError: UNKNOWN_CLIENT,
    oauth_errors.MissingClientIdError: UNKNOWN_CLIENT,
    oauth_errors.InvalidClientError: UNKNOWN_CLIENT,
    oauth_errors.MismatchingRedirectURIError: BAD_REDIRECT,
    oauth_errors.InvalidRedirectURIError: BAD_REDIRECT,
    oauth_errors.MissingRedirectURIError: "La démarche n'a pas indiqué d'adresse de retour.",
}
DEFAULT_ERROR_MESSAGE = (
    "La démarche a envoyé une demande de connexion que le portail ne peut pas traiter."
)


def _error_context(context: dict[str, Any]) -> dict[str, Any]:
    error = context.get("error")
    code = getattr(error, "error", "") if error else ""
    context.setdefault("application", None)
    context["error"] = error or None
    context["error_code"] = code
    context["error_description"] = getattr(error, "description", "") if error else ""
    context["error_message"] = (
        ERROR_MESSAGES.get(type(error), DEFAULT_ERROR_MESSAGE) if error else ""
    )
    return context


def _page_context(context: dict[str, Any], title: str) -> dict[str, Any]:
    """DOT's context as the portal's page needs it: the error in French, a title, the form."""
    page = _error_context(dict(context))
    page.setdefault("title", title)
    page.setdefault("form", None)
    return page


class AuthorizationView(oauth2_views.AuthorizationView):
    template_name = "oidc/authorize.html"

    def create_authorization_response(
        self, request: HttpRequest, scopes: str, credentials: dict[str, Any], allow: bool
    ) -> tuple[str, dict[str, str], str, int]:
        # oauthlib sets each credential on its request: the validator records which portal
        # session authorised the code (portail.oidc.session_tokens).
        credentials[session_tokens.CREDENTIAL] = request.session.get(USER_SESSION_KEY)
        response: tuple[str, dict[str, str], str, int] = super().create_authorization_response(
            request, scopes, credentials, allow
        )
        return response

    def render_to_response(
        self, context: dict[str, Any], **response_kwargs: Any
    ) -> HttpResponseBase:
        context = _page_context(context, "Connexion à une démarche")
        context.setdefault("scopes_descriptions", [])
        response: HttpResponseBase = super().render_to_response(context, **response_kwargs)
        return response


class RPInitiatedLogoutView(oauth2_views.RPInitiatedLogoutView):
    template_name = "oidc/logout_confirm.html"

    def render_to_response(
        self, context: dict[str, Any], **response_kwargs: Any
    ) -> HttpResponseBase:
        context = _page_context(context, "Déconnexion")
        response: HttpResponseBase = super().render_to_response(context, **response_kwargs)
        # The confirmation form leads back to the démarche (its URI was validated before the
        # form was shown): the page's form-action must allow that origin.
        target = self.oidc_data.get("post_logout_redirect_uri") if not context["error"] else ""
        if target:
            parts = urlsplit(target)
            add_form_action(response, f"{parts.scheme}://{parts.netloc}")
        return response


class UserInfoView(oauth2_views.UserInfoView):
    """DOT's userinfo, refusing access tokens in the query string as its other endpoints do.

    RFC 9700 §4.3.2 (and RFC 6750 §5.3): a token in a URL ends up in logs and Referer headers.
    DOT 3.4 applies COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT to protected resources but not
    to its own userinfo endpoint.
    """

    def _create_userinfo_response(self, request: HttpRequest) -> HttpResponseBase:
        if "access_token" in request.GET:
            response = JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "Access tokens are not accepted in the query string.",
                },
                status=400,
            )
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
            return response
        userinfo: HttpResponseBase = super()._create_userinfo_response(request)
        return userinfo


class TokenView(oauth2_views.TokenView):
    """DOT's token endpoint without the lookup that only feeds its `app_authorized` signal.

    After each success DOT reads the new access token back from the database to send that
    signal; nothing here listens to it, and it is one query per token request.
    """

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        _url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status, content_type="application/json")
        for key, value in headers.items():
            response[key] = value
        # JSON for machines: no document, no policy to build (portail.core.middleware.CSPMiddleware).
        response._csp_exempt = True  # type: ignore[attr-defined]
        return response


class ConnectDiscoveryInfoView(oauth2_views.ConnectDiscoveryInfoView):
    """DOT's discovery document, naming also the revocation (RFC 7009) and introspection
    (RFC 7662) endpoints, as RFC 8414 metadata does, and the feed of habilitation changes."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        auth_methods = oauth2_settings.OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED
        for key, view_name in EXTRA_ENDPOINTS:
            data[key] = self._get_endpoint_url(request, view_name, required=True)
        data["revocation_endpoint_auth_methods_supported"] = auth_methods
        data["introspection_endpoint_auth_methods_supported"] = auth_methods
        response.content = json.dumps(data).encode()
        return response


EXTRA_ENDPOINTS = [
    ("revocation_endpoint", "revoke-token"),
    ("introspection_endpoint", "introspect"),
]
