"""Signing in through the portal: who the person is (`sub`) and their habilitations for CERES.

mozilla-django-oidc runs the code flow (state, nonce, PKCE); this backend adds what it leaves out
or gets wrong for us:
- the person is found by `sub` (stable), never by email;
- the ID token's `iss`, `aud`, `exp` and `iat` are checked, not only its signature;
- the claims come from the ID token when it carries them (the portal's does), else from userinfo,
  whose answer must then be about the same `sub` (OpenID Connect Core §5.3.2);
- the `habilitations` claim is kept in the session: CERES reads it on every page, and the
  HabilitationsRefresh middleware reads it again from the portal at least every 10 minutes.
"""

import logging
import threading
import time
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import connections, router
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from ceres.web import id_token_check, sign_in
from ceres.web.backchannel import PORTAL_SID_KEY
from ceres.web.portal_requests import basic_authorization, portal_requests
from ceres.web.revocation import KeepsRefreshToken, revoke_refresh_token

if TYPE_CHECKING:
    from requests.sessions import _Settings

log = logging.getLogger(__name__)

HABILITATIONS_KEY = "ceres_habilitations"
# The suspended ones (`habilitations_suspendues`): why a person with no role is refused.
SUSPENDED_KEY = "ceres_habilitations_suspendues"
# How the person signed in at the portal, from the last ID token: {"acr": …, "amr": […]}.
SIGN_IN_KEY = "ceres_sign_in"
ESTABLISHMENT_KEY = "ceres_siret"

Claims = dict[str, Any]  # an ID token's payload or a userinfo answer (JSON)
# The claims a sign-in keeps (update_user); when the ID token carries them, userinfo is not asked.
ID_TOKEN_CLAIMS = ("email", "given_name", "family_name", "habilitations")

# The portal's signing keys, kept by this process: read again after KEYS_MAX_AGE (a retired key
# stops being trusted), or when a token names a key not seen yet (a new key after a rotation),
# at most once every KEYS_REFETCH_SECONDS (tokens naming made-up keys cost no request each).
KEYS_MAX_AGE = 600
KEYS_REFETCH_SECONDS = 10


class _PortalKeys:
    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], jwt.PyJWK] = {}
        self.fetched_at = float("-inf")
        self.lock = threading.Lock()

    def get(self, kid: str, alg: str, fetch: Any) -> jwt.PyJWK | None:
        with self.lock:
            age = time.monotonic() - self.fetched_at
            key = self.keys.get((kid, alg)) if age < KEYS_MAX_AGE else None
            if key is None and age >= KEYS_REFETCH_SECONDS:
                document = fetch()
                self.keys = {
                    (str(jwk.get("kid", "")), str(jwk.get("alg", alg))): jwt.PyJWK(jwk)
                    for jwk in document.get("keys", [])
                }
                self.fetched_at = time.monotonic()
                key = self.keys.get((kid, alg))
            return key


portal_keys = _PortalKeys()


class _PortalHTTP(requests.Session):
    """One HTTP session for CERES' calls to the portal. `requests.post()` builds a session (its
    adapters, its pool) at every call and reads the whole environment twice for its proxy
    settings; a process's environment does not change: what it says for an origin is read once.
    """

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[Any, ...], _Settings] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> "_Settings":
        if proxies:  # proxies given by the settings: requests' own merge
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream, verify, cert)
        known = self._environment.get(key)
        if known is None:
            known = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._environment[key] = known
        merged = known.copy()
        merged["proxies"] = dict(known["proxies"])
        return merged


portal_http = _PortalHTTP()


class _TokenThroughPortalHTTP(OIDCAuthenticationBackend):
    def get_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        # mozilla-django-oidc's, sent by urllib3 (ceres.web.portal_requests).
        if self.get_settings("OIDC_PROXY", None):  # a proxy named in the settings: requests'
            token_info: dict[str, Any] = super().get_token(payload)
            return token_info
        authorization = None
        if self.get_settings("OIDC_TOKEN_USE_BASIC_AUTH", False):
            authorization = basic_authorization(
                str(payload["client_id"]), str(payload.pop("client_secret"))
            )
        response = portal_requests.post_form(
            self.OIDC_OP_TOKEN_ENDPOINT,
            payload,
            authorization,
            verify=self.get_settings("OIDC_VERIFY_SSL", True),
            timeout=self.get_settings("OIDC_TIMEOUT", None),
        )
        self.raise_token_response_error(response)
        token: dict[str, Any] = response.json()
        return token

    def get_userinfo(self, access_token: str, id_token: str, payload: Claims) -> Claims:
        # mozilla-django-oidc's, sent by urllib3; an answer other than 200 is refused.
        if self.get_settings("OIDC_PROXY", None):
            claims: Claims = super().get_userinfo(access_token, id_token, payload)
            return claims
        response = portal_requests.send(
            "GET",
            self.OIDC_OP_USER_ENDPOINT,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "*/*"},
            verify=self.get_settings("OIDC_VERIFY_SSL", True),
            timeout=self.get_settings("OIDC_TIMEOUT", None),
        )
        if response.status_code != 200:
            raise requests.HTTPError(f"{response.status_code} Error for url: {response.url}")
        if response.headers.get("content-type", "").lower().startswith("application/jwt"):
            signed: Claims = self.verify_token(response.text)
            return signed
        answer: Claims = response.json()
        return answer


class PortalOIDCBackend(KeepsRefreshToken, _TokenThroughPortalHTTP):
    def _jwks(self) -> dict[str, Any]:
        response = portal_http.get(
            self.OIDC_OP_JWKS_ENDPOINT,
            verify=self.get_settings("OIDC_VERIFY_SSL", True),
            timeout=self.get_settings("OIDC_TIMEOUT", None),
        )
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    def verify_token(self, token: str, **kwargs: Any) -> Claims:
        # mozilla-django-oidc's, the token read once (ceres.web.id_token_check), then its nonce.
        claims = id_token_check.verified(
            token,
            lambda kid, alg: portal_keys.get(kid, alg, self._jwks),
            issuer=settings.OIDC_ISSUER,
            audience=self.OIDC_RP_CLIENT_ID,
        )
        if self.get_settings("OIDC_USE_NONCE", True) and kwargs.get("nonce") != claims.get("nonce"):
            raise SuspiciousOperation("JWT Nonce verification failed.")
        return claims

    def get_userinfo(self, access_token: str, id_token: str, payload: Claims) -> Claims:
        if all(name in payload for name in ID_TOKEN_CLAIMS):
            # The portal puts every claim of the granted scopes in the ID token, signed and
            # checked above (signature, iss, aud, exp, nonce), computed at the same moment as its
            # userinfo answer would be: asking userinfo too was a second request to the portal
            # at every sign-in for the same claims.
            return payload
        claims: Claims = super().get_userinfo(access_token, id_token, payload)
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("userinfo is about another person than the ID token.")
        return claims

    def get_or_create_user(self, access_token: str, id_token: str, payload: Claims) -> User:
        user: User = super().get_or_create_user(access_token, id_token, payload)
        if user is not None:
            # The ID token says how the person signed in; the gestionnaire functions read it.
            amr = payload.get("amr")
            # The portal session (`sid`): a logout token names it (ceres.web.backchannel).
            self.request.session[PORTAL_SID_KEY] = str(payload.get("sid", ""))
            self.request.session[SIGN_IN_KEY] = {
                "acr": str(payload.get("acr", "")),
                "amr": [str(m) for m in amr] if isinstance(amr, list) else [],
            }
        return user

    def verify_claims(self, claims: Claims) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: Claims) -> list[User]:
        return _users_where("username", claims["sub"])

    def get_user(self, user_id: Any) -> User | None:
        # Every signed-in request reads its user (mozilla-django-oidc: an ORM get).
        found = _users_where("id", user_id)
        return found[0] if found else None

    def create_user(self, claims: Claims) -> User:
        user = get_user_model()(username=claims["sub"])
        user.set_unusable_password()
        return self.update_user(user, claims)

    def update_user(self, user: User, claims: Claims) -> User:
        fields = {
            "email": claims.get("email", ""),
            "first_name": claims.get("given_name", "")[:150],
            "last_name": claims.get("family_name", "")[:150],
        }
        changed = [name for name, value in fields.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, fields[name])
        if user.pk is None:
            user.save()
        elif changed:  # every sign-in reads the claims; most change nothing
            user.save(update_fields=changed)
        self.request.session[HABILITATIONS_KEY] = claims.get("habilitations", [])
        suspended = claims.get("habilitations_suspendues") or []
        if suspended or SUSPENDED_KEY in self.request.session:
            self.request.session[SUSPENDED_KEY] = suspended
        return user


# Each column's position and what converts its value (the backend's converters, then the field's).
Converters = list[tuple[int, list[Any], Any]]


@cache
def _user_reading(alias: str, column: str) -> tuple[str, list[str], Converters]:
    """The statement's text, the instance's attribute names and the converters, made once per
    database and column: those the ORM's compiler (and RawQuerySet) work out at every read."""
    model = get_user_model()
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    sql = (
        f"SELECT {', '.join(quote(field.column) for field in fields)}"  # noqa: S608
        f" FROM {quote(model._meta.db_table)} WHERE {quote(column)} = %s"
    )
    converters: Converters = []
    for position, field in enumerate(fields):
        col = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            converters.append((position, found, col))
    return sql, [field.attname for field in fields], converters


def _users_where(column: str, value: Any) -> list[User]:
    """The users whose `column` is `value`, through a plain statement whose text is made once:
    building and compiling the ORM's query cost more than running it. The values are converted
    and the instances made as the ORM does (SQLCompiler.apply_converters, Model.from_db);
    tests/ceres/users_read_check.py compares them with the ORM's, field by field."""
    model = get_user_model()
    try:  # as a lookup would: the session keeps the id as a string
        field: Any = model._meta.get_field(column)
        value = field.to_python(value)
    except ValidationError:
        return []
    alias = router.db_for_read(model)
    connection = connections[alias]
    sql, names, converters = _user_reading(alias, column)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        rows = cursor.fetchall()
    users = []
    for row in rows:
        values = list(row)
        for position, functions, col in converters:
            for function in functions:
                values[position] = function(values[position], col, connection)
        users.append(model.from_db(alias, names, values))
    return users


def note_last_login(sender: Any, user: User, **kwargs: Any) -> None:
    """`user_logged_in`, in place of Django's update_last_login: the same column, written by one
    plain statement whose text is made once (Django saves the user through the ORM, whose
    building and compiling cost more than the write)."""
    connection = connections[router.db_for_write(type(user))]
    user.last_login = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _last_login_sql(connection.alias),
            [connection.ops.adapt_datetimefield_value(user.last_login), user.pk],
        )


@cache
def _last_login_sql(alias: str) -> str:
    model = get_user_model()
    quote = connections[alias].ops.quote_name
    return (
        f"UPDATE {quote(model._meta.db_table)} SET {quote('last_login')} = %s"  # noqa: S608
        f" WHERE {quote(model._meta.pk.column)} = %s"
    )


user_logged_in.disconnect(dispatch_uid="update_last_login")
user_logged_in.connect(note_last_login, dispatch_uid="ceres.web.last_login")


def signed_in_with_mfa(request: HttpRequest) -> bool:
    """The portal said (ID token's `acr`) that a second factor was used for this session."""
    return bool((request.session.get(SIGN_IN_KEY) or {}).get("acr") == settings.MFA_ACR)


class AuthenticationRequestView(OIDCAuthenticationRequestView):
    """mozilla-django-oidc's sign-in, asking the portal for a second factor (`acr_values`)
    when a gestionnaire function sends the person with `?mfa=1`. The request is built by
    ceres.web.sign_in, as the anonymous person's first page builds it (ceres.web.middleware)."""

    def get(self, request: HttpRequest) -> HttpResponseRedirect:
        next_field = self.get_settings("OIDC_REDIRECT_FIELD_NAME", "next")
        next_url = sign_in.safe_next(request, request.GET.get(next_field))
        return sign_in.authorization_redirect(request, next_url, self.get_extra_params(request))

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        params: dict[str, str] = super().get_extra_params(request)
        if request.GET.get("mfa") == "1":
            params = {**params, "acr_values": settings.MFA_ACR}
        return params


def provider_logout_url(request: HttpRequest) -> str:
    """RP-initiated logout: the portal ends its session too, then sends the person back here."""
    revoke_refresh_token(request)
    params = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("ceres_web:logged_out")),
    }
    id_token = request.session.get("oidc_id_token")
    if id_token:
        params["id_token_hint"] = id_token
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{urlencode(params)}"
