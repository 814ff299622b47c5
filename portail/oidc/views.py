"""django-oauth-toolkit's views, rendered with the portal's DSFR pages and French messages.

The behaviour is DOT's (validation, errors, redirects); only what a person may see changes.
"""

import json
import time
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as oauth2_views
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_backends import _add_iss_to_redirect as add_iss_to_redirect
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors as oauth_errors
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error

from portail.accounts.flows import record_logout
from portail.accounts.models import User
from portail.accounts.user_sessions import USER_SESSION_KEY
from portail.core import strong_auth
from portail.core.context import context_of
from portail.oidc import authentication, code_exchange, session_tokens, trusted_authorization
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


@method_decorator(login_not_required, name="dispatch")  # DOT's view sends to the login itself
class AuthorizationView(oauth2_views.AuthorizationView):
    """DOT's authorization, with the démarche's demands on how the person signed in
    (portail.oidc.authentication): `acr_values`, `max_age`, `prompt=login`. The session's
    `amr` and `acr` go with the code to the ID token (validators.PortalOAuth2Validator)."""

    template_name = "oidc/authorize.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Before the login: an acr the portal cannot give is refused at once (no session).
        if authentication.unknown_only(request.GET.get("acr_values", "").split()):
            return self._unmet(request)
        response: HttpResponseBase = super().dispatch(request, *args, **kwargs)
        return response

    def _unmet(self, request: HttpRequest) -> HttpResponseBase:
        try:
            _scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as refused:  # an unknown client or redirect URI: shown, not sent
            shown: HttpResponseBase = self.error_response(refused, application=None)
            return shown
        application = get_application_model().objects.get(client_id=credentials["client_id"])
        unmet = OAuthToolkitError(
            error=CustomOAuth2Error(
                error=authentication.UNMET,
                description="The requested acr_values cannot be satisfied.",
                state=credentials.get("state"),
            ),
            redirect_uri=credentials["redirect_uri"],
        )
        response: HttpResponseBase = self.error_response(unmet, application)
        return response

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        prompt = set(request.GET.get("prompt", "").split())
        if ("login" in prompt or self._too_old(request)) and "none" not in prompt:
            # Signed in anew: the session ends here, the login page leads back without prompt.
            if isinstance(request.user, User):
                why = "prompt=login" if "login" in prompt else "max_age"
                record_logout(request.user, context=context_of(request), reason=why)
            logout(request)
            query = request.GET.copy()
            query.pop("prompt", None)
            return redirect_to_login(f"{request.path}?{query.urlencode()}")
        acr_values = request.GET.get("acr_values", "").split()
        if authentication.wants_mfa(acr_values) and "mfa" not in strong_auth.amr_of(request):
            detour = strong_auth.strong_auth_redirect(request, required=True, step_up=True)
            if detour is not None and "none" not in prompt:
                return detour
            if detour is not None:  # prompt=none: nobody may be asked anything
                return self._unmet(request)
        ordinary = trusted_authorization.oauthlib_request(request)
        if ordinary is not None:  # the ordinary request of a trusted démarche, written out
            signed_in = self._signed_in_credentials(request)
            location = trusted_authorization.redirect_location(request, ordinary, signed_in)
            answer: HttpResponseBase = self.redirect(location, ordinary.client)
            return answer
        trusted = self._trusted_client_code(request)
        if trusted is not None:
            return trusted
        response: HttpResponseBase = super().get(request, *args, **kwargs)
        return response

    def _trusted_client_code(self, request: HttpRequest) -> HttpResponseBase | None:
        """DOT's answer to a trusted client (no consent screen) with the request validated once.

        DOT validates the request through oauthlib, reads the client again ("TODO: Cache
        this!"), then asks oauthlib to create the code, which validates the whole request a
        second time. Here the first validation's oauthlib request (its client, scopes, PKCE,
        nonce, prompt checked) goes straight to the code grant's own steps: the code drawn, the
        validator's save, the redirect with the code, the state and RFC 9207's `iss`. Anything
        else (an error, a client that asks consent, `prompt=create`, resource indicators,
        `ui_locales`) is DOT's get, unchanged."""
        prompt = set(request.GET.get("prompt", "").split())
        if prompt & {"create", "login"} or "resource" in request.GET or "ui_locales" in request.GET:
            return None
        try:
            _scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError:
            return None  # DOT's get shows the error, or sends it to the démarche
        oauth_request = credentials["request"]
        client = oauth_request.client
        validator = self.get_oauthlib_core().server.request_validator
        if (
            not client.skip_authorization
            or oauth_request.response_type != "code"
            # The validator's one-step write (authorization_rows): PKCE S256, no resource.
            or not validator._lean_authorization_possible(oauth_request)
        ):
            return None
        oauth_request.user = request.user
        for name, value in self._signed_in_credentials(request).items():
            setattr(oauth_request, name, value)
        grant_type = self.get_oauthlib_core().server.response_types["code"]
        grant_type = getattr(grant_type, "_handler_for_request", lambda r: grant_type)(
            oauth_request
        )
        code = grant_type.create_authorization_code(oauth_request)
        if grant_type._code_modifiers:  # none for response_type=code
            return None
        validator.save_authorization_code(oauth_request.client_id, code, oauth_request)
        headers, _body, _status = grant_type.prepare_authorization_response(
            oauth_request, code, {}, None, 302
        )
        location = headers["Location"]
        if oauth2_settings.COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS:
            issuer = oauth2_settings.oauth2_authorization_server_issuer(request)
            location = add_iss_to_redirect(location, issuer)
        response: HttpResponseBase = self.redirect(location, client)
        return response

    @staticmethod
    def _too_old(request: HttpRequest) -> bool:
        max_age = request.GET.get("max_age", "")
        if not max_age.isdigit():
            return False
        at = strong_auth.authenticated_at(request)
        return at is None or time.time() - at > int(max_age)

    def create_authorization_response(
        self, request: HttpRequest, scopes: str, credentials: dict[str, Any], allow: bool
    ) -> tuple[str, dict[str, str], str, int]:
        # oauthlib copies the credentials onto its request: save_authorization_code reads them.
        credentials.update(self._signed_in_credentials(request))
        answer: tuple[str, dict[str, str], str, int] = super().create_authorization_response(
            request=request, scopes=scopes, credentials=credentials, allow=allow
        )
        return answer

    @staticmethod
    def _signed_in_credentials(request: HttpRequest) -> dict[str, Any]:
        """How the person signed in (amr, acr, auth_time) and the portal session: what the
        validator's save_authorization_code writes beside the code (GrantAuthentication, and
        SessionGrant: portail.oidc.session_tokens)."""
        amr = strong_auth.amr_of(request)
        return {
            "portail_amr": amr,
            "portail_acr": authentication.acr_for(amr),
            "portail_auth_time": strong_auth.authenticated_at(request),
            session_tokens.CREDENTIAL: request.session.get(USER_SESSION_KEY),
        }

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
    """DOT's token endpoint, a successful authorization-code exchange written out
    (portail.oidc.code_exchange), without the lookup that only feeds its `app_authorized` signal.

    After each success DOT reads the new access token back from the database to send that
    signal; nothing here listens to it, and it is one query per token request.
    """

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        exchanged = code_exchange.answer(request)
        if exchanged is not None:
            return exchanged
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response

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
    (RFC 7662) endpoints, as RFC 8414 metadata does, the `acr` values the provider gives, and
    Back-Channel Logout (portail.oidc.backchannel)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().get(request, *args, **kwargs)
        document = json.loads(response.content)
        auth_methods = oauth2_settings.OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED
        for key, view_name in EXTRA_ENDPOINTS:
            document[key] = self._get_endpoint_url(request, view_name, required=True)
        document["revocation_endpoint_auth_methods_supported"] = auth_methods
        document["introspection_endpoint_auth_methods_supported"] = auth_methods
        document["acr_values_supported"] = authentication.ACR_VALUES
        document["backchannel_logout_supported"] = True
        document["backchannel_logout_session_supported"] = True
        answer = JsonResponse(document)
        answer["Access-Control-Allow-Origin"] = "*"
        return answer


EXTRA_ENDPOINTS = [
    ("revocation_endpoint", "revoke-token"),
    ("introspection_endpoint", "introspect"),
]
