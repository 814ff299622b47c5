"""The portal's OAuth2/OpenID Connect rules on top of django-oauth-toolkit.

- `sub` is `User.public_id` (stable, opaque, never the email);
- claims: email, email_verified, given_name, family_name, name, phone_number, and `habilitations`
  (scope `habilitations`, for the calling démarche only: portail.oidc.claims);
- an authorization code used twice is refused and every token issued from it is revoked;
- an inactive account gets no token, not even from a refresh token.
"""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from jwcrypto import jwt  # type: ignore[import-untyped]
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.oauth2_validators import Application, OAuth2Validator, RefreshToken
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors, utils

from portail.audit.journal import record
from portail.core.secrets import keyed_hash
from portail.habilitations.models import Habilitation
from portail.oidc import (
    authorization_rows,
    backchannel,
    client_cache,
    code_rows,
    grant_rows,
    refresh_rows,
    session_tokens,
)
from portail.oidc.authentication import ACR_PASSWORD
from portail.oidc.claims import (
    habilitations_claim,
    live_habilitations,
    suspended_habilitations_claim,
)
from portail.oidc.models import GrantAuthentication, UsedAuthorizationCode
from portail.oidc.tokens import checksum

log = logging.getLogger(__name__)

CODE_PURPOSE = "oauth-authorization-code"
AccessToken = get_access_token_model()
Grant = get_grant_model()
IDToken = get_id_token_model()
User = get_user_model()

# oauthlib's token: access_token, refresh_token, scope, expires_in, id_token...
Token = dict[str, Any]
Claims = dict[str, Callable[[Request], Any]]


DISCOVERY_SUFFIX = "/.well-known/openid-configuration"


@cache
def _discovery_path(script_prefix: str, urlconf: str | None) -> str:
    """The discovery document's path, which the issuer is the start of (the arguments: what
    reverse's answer depends on besides the URL's name)."""
    path: str = reverse("oauth2_provider:oidc-connect-discovery-info")
    return path


@cache
def _thumbprint(pem: str) -> str:
    return str(jwk_from_pem(pem).thumbprint())


def signing_key_id(client: Application) -> str:
    """The `kid` of RS256 ID tokens: the key's thumbprint, computed once per key."""
    return _thumbprint(oauth2_settings.OIDC_RSA_PRIVATE_KEY)


def revoke_tokens_of(used: UsedAuthorizationCode) -> None:
    """Revoke what the exchange of `used` issued: refresh-token family, access and ID tokens."""
    with transaction.atomic():
        if used.token_family:
            RefreshToken.revoke_family(used.token_family)
        if used.access_token_checksum:
            AccessToken.objects.filter(token_checksum=used.access_token_checksum).delete()
        if used.id_token_jti:
            IDToken.objects.filter(jti=used.id_token_jti).delete()


def _live_rows(request: Request) -> list[Habilitation]:
    """Both habilitation claims of one answer from one read, kept on oauthlib's request."""
    rows: list[Habilitation] | None = getattr(request, "portail_live_habilitations", None)
    if rows is None:
        rows = live_habilitations(request.user, request.client.client_id)
        request.portail_live_habilitations = rows
    return rows


class PortalOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "habilitations": "habilitations",
        "habilitations_suspendues": "habilitations",
    }

    # -- claims ---------------------------------------------------------------------------------

    @classmethod
    def _get_additional_claims_is_request_agnostic(cls) -> bool:
        # get_additional_claims below takes no request. DOT finds that out with two
        # inspect.signature calls on every ID token and userinfo answer (~200 calls).
        return True

    def get_claim_dict(self, request: Request) -> Claims:
        claims: Claims = super().get_claim_dict(request)
        claims["sub"] = lambda r: str(r.user.public_id)
        return claims

    def get_additional_claims(self) -> Claims:
        # Request-agnostic form (no `request` argument): the discovery document lists the claims.
        return {
            "email": lambda r: r.user.email,
            "email_verified": lambda r: r.user.email_verified_at is not None,
            "given_name": lambda r: r.user.first_name,
            "family_name": lambda r: r.user.last_name,
            "name": lambda r: r.user.get_full_name(),
            "phone_number": lambda r: r.user.phone,
            "habilitations": lambda r: habilitations_claim(
                r.user, r.client.client_id, _live_rows(r)
            ),
            "habilitations_suspendues": lambda r: suspended_habilitations_claim(
                r.user, r.client.client_id, _live_rows(r)
            ),
        }

    # -- how the person signed in: amr, acr, auth_time (portail.oidc.authentication) ----------

    def _create_authorization_code(
        self, request: Request, code: Token, expires: datetime | None = None
    ) -> Any:
        grant = super()._create_authorization_code(request, code, expires)
        auth_time = getattr(request, "portail_auth_time", None)
        GrantAuthentication.objects.create(
            grant=grant,
            amr=getattr(request, "portail_amr", None) or ["pwd"],
            acr=getattr(request, "portail_acr", None) or ACR_PASSWORD,
            auth_time=datetime.fromtimestamp(auth_time, tz=UTC) if auth_time else None,
        )
        return grant

    def get_id_token_dictionary(
        self, token: Token, token_handler: Any, request: Request
    ) -> tuple[dict[str, Any], datetime]:
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        signed_in = getattr(request, "portail_authentication", None)
        if signed_in is not None:
            claims["amr"] = signed_in.amr
            claims["acr"] = signed_in.acr
            if signed_in.auth_time is not None:
                claims["auth_time"] = int(signed_in.auth_time.timestamp())
        # `sid` (Back-Channel Logout §2.1): the portal session the code came from.
        used = getattr(request, "used_code", None)
        found = getattr(request, "portal_found_grant", None)
        if getattr(request, "lean_exchange", None) and found is not None:
            user_session = found.user_session_id  # read with the grant (grant_rows)
        else:
            code_hash = used.code_hash if used else None
            user_session = session_tokens.session_of_code(code_hash) if code_hash else None
        if user_session is not None:
            claims["sid"] = backchannel.session_id(user_session)
        return claims, expiration

    def get_oidc_issuer_endpoint(self, request: Request) -> str:
        # The exchange written out (portail.oidc.code_exchange) keeps Django's request on
        # oauthlib's: the issuer derived from it, as DOT derives it from the headers it copied.
        http_request = getattr(request, "portail_http_request", None)
        if http_request is None or oauth2_settings.OIDC_ISS_ENDPOINT:
            issuer: str = oauth2_settings.oidc_issuer(http_request or request)
            return issuer
        # DOT's derivation (settings.oidc_issuer), the discovery path reversed once per URLconf.
        absolute: str = http_request.build_absolute_uri(
            _discovery_path(get_script_prefix(), get_urlconf())
        )
        return absolute[: -len(DISCOVERY_SUFFIX)]

    # -- authorization codes: one use, replay revokes ------------------------------------------

    def validate_code(
        self,
        client_id: str,
        code: str,
        client: Application,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        code_hash = keyed_hash(code or "", CODE_PURPOSE)
        grant = self._grant(code, client, request)
        if grant is None:
            # Exchanged already (the exchange deletes the grant)? Then someone replays it.
            used = UsedAuthorizationCode.objects.filter(code_hash=code_hash).first()
            if used is not None:
                self._replayed(used, request)
            return False
        if grant.is_expired() or not grant.user.is_active:
            return False
        # How the person signed in (amr, acr, auth_time): read with the grant, which the
        # exchange deletes.
        request.portail_authentication = request.portal_found_grant.authentication
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        if self._lean_exchange_possible(grant, request):
            # code_rows.issue marks the code used with the tokens it issues, in one step.
            request.lean_exchange = code_hash
            return True
        try:
            with transaction.atomic():
                request.used_code = UsedAuthorizationCode.objects.create(
                    code_hash=code_hash, application=client, user=request.user
                )
        except IntegrityError:
            # The same code exchanged at the same moment by two requests: refuse this one and
            # mark the row, so the other one revokes what it issues (invalidate_authorization_code).
            used = UsedAuthorizationCode.objects.filter(code_hash=code_hash).first()
            if used is not None:
                self._replayed(used, request)
            return False
        return True

    def save_authorization_code(
        self, client_id: str, code: Token, request: Request, *args: Any, **kwargs: Any
    ) -> None:
        if self._lean_authorization_possible(request):
            # The rows below and DOT's grant in one step (authorization_rows).
            authorization_rows.record(self._authorized(code, request))
            return
        grant = self._create_authorization_code(request, code)
        # The portal session that authorised it (views.AuthorizationView): ending that session
        # revokes what the code brings (portail.oidc.session_tokens).
        session_tokens.record_authorization(
            getattr(request, session_tokens.CREDENTIAL, None),
            request.user.pk,
            keyed_hash(code["code"], CODE_PURPOSE),
            grant,
        )

    def _lean_authorization_possible(self, request: Request) -> bool:
        # DOT refuses the "plain" PKCE method in _create_authorization_code; RFC 8707 resources
        # go its way too.
        return request.code_challenge_method == "S256" and not getattr(request, "resource", None)

    def _authorized(self, code: Token, request: Request) -> authorization_rows.Authorized:
        """What DOT's _create_authorization_code and the two rows above would write."""
        auth_time = getattr(request, "portail_auth_time", None)
        return authorization_rows.Authorized(
            user_id=request.user.pk,
            application_id=request.client.pk,
            code=code["code"],
            code_hash=keyed_hash(code["code"], CODE_PURPOSE),
            expires=timezone.now()
            + timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS),
            redirect_uri=request.redirect_uri,
            scope=" ".join(request.scopes),
            code_challenge=request.code_challenge or "",
            code_challenge_method=request.code_challenge_method or "",
            nonce=request.nonce or "",
            claims=json.dumps(request.claims or {}),
            amr=getattr(request, "portail_amr", None) or ["pwd"],
            acr=getattr(request, "portail_acr", None) or ACR_PASSWORD,
            auth_time=datetime.fromtimestamp(auth_time, tz=UTC) if auth_time else None,
            user_session_id=session_tokens.session_uuid(
                getattr(request, session_tokens.CREDENTIAL, None)
            ),
        )

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Request, *args: Any, **kwargs: Any
    ) -> None:
        if getattr(request, "lean_exchange", None):
            return  # code_rows.issue deleted the grant
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        used = getattr(request, "used_code", None)
        issued = getattr(request, "issued_token", None)
        if used is None or issued is None:
            return
        access_token = (
            AccessToken.objects.filter(token_checksum=checksum(issued["access_token"]))
            .select_related("id_token")
            .first()
        )
        refresh = RefreshToken.objects.filter(access_token=access_token).first()
        used.access_token_checksum = checksum(issued["access_token"])
        used.token_family = refresh.token_family if refresh else None
        used.id_token_jti = (
            access_token.id_token.jti if access_token and access_token.id_token else None
        )
        used.save(update_fields=["access_token_checksum", "token_family", "id_token_jti"])
        session_tokens.record_exchange(used.code_hash, used.token_family)
        used.refresh_from_db(fields=["replayed_at"])
        if used.replayed_at is not None:
            revoke_tokens_of(used)

    def save_bearer_token(self, token: Token, request: Request, *args: Any, **kwargs: Any) -> None:
        if request.grant_type == "authorization_code" and getattr(request, "lean_exchange", None):
            self._issue(token, request)
            return
        if request.grant_type == "refresh_token" and self._can_rotate_leanly(token, request):
            # Atomic by itself (refresh_rows.rotate): without DOT's transaction around it, two
            # round trips less on PostgreSQL (BEGIN and COMMIT).
            self._rotate_refresh_token(token, request)
            return
        super().save_bearer_token(token, request, *args, **kwargs)

    def _save_bearer_token(self, token: Token, request: Request, *args: Any, **kwargs: Any) -> None:
        super()._save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code":
            request.issued_token = token

    def _replayed(self, used: UsedAuthorizationCode, request: Request) -> None:
        UsedAuthorizationCode.objects.filter(pk=used.pk).update(replayed_at=timezone.now())
        revoke_tokens_of(used)
        record(
            "oidc.authorization_code_replayed",
            target=used.application,
            data={"client_id": used.application.client_id, "user_id": used.user_id},
        )
        log.warning(
            "Authorization code replayed for client %s: tokens revoked", used.application_id
        )

    # -- the authorization-code exchange in a few statements (portail.oidc.code_rows) -----------
    #
    # DOT reads the grant five times (the dispatcher's scopes, the code, the nonce, the PKCE
    # challenge and method, the redirect URI), saves each row in its own transaction and looks
    # the ID token up again: 27 statements. Here the grant is read once with its user, and the
    # writes are one step. Resource indicators (RFC 8707) and non-OpenID requests go DOT's way.

    def _grant(self, code: str, client: Any, request: Request) -> Any:
        """The grant of `code` with its user, if it is `client`'s (None: any client's), or None.

        One query per request (with how the person signed in and the session behind the code:
        grant_rows): the dispatcher asks for the scopes before the client is known."""
        cached = getattr(request, "portal_grant", None)
        if cached is None or cached[0] != code:
            found = grant_rows.find(code or "", keyed_hash(code or "", CODE_PURPOSE))
            request.portal_found_grant = found
            cached = (code, found.grant if found is not None else None)
            request.portal_grant = cached
        grant = cached[1]
        if grant is None or (client is not None and grant.application_id != client.pk):
            return None
        return grant

    def _lean_exchange_possible(self, grant: Any, request: Request) -> bool:
        return (
            "openid" in request.scopes
            and not getattr(request, "resource", None)
            and not grant.resource
            and oauth2_settings.OIDC_ENABLED
        )

    def get_authorization_code_scopes(
        self, client_id: str, code: str, redirect_uri: str, request: Request
    ) -> list[str]:
        grant = self._grant(code, None, request)
        scopes: list[str] = utils.scope_to_list(grant.scope) if grant is not None else []
        return scopes

    def get_authorization_code_nonce(
        self, client_id: str, code: str, redirect_uri: str, request: Request
    ) -> str | None:
        grant = self._grant(code, request.client, request)
        return (grant.nonce or None) if grant is not None else None

    def get_code_challenge(self, code: str, request: Request) -> str | None:
        grant = self._grant(code, request.client, request)
        return (grant.code_challenge or None) if grant is not None else None

    def get_code_challenge_method(self, code: str, request: Request) -> str | None:
        grant = self._grant(code, request.client, request)
        return (grant.code_challenge_method or None) if grant is not None else None

    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: Application,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        request = kwargs.get("request") or (args[0] if args else None)
        if request is None:
            return bool(super().confirm_redirect_uri(client_id, code, redirect_uri, client))
        grant = self._grant(code, client, request)
        return grant is not None and bool(grant.redirect_uri_allowed(redirect_uri))

    def finalize_id_token(
        self, id_token: dict[str, Any], token: Token, token_handler: Any, request: Request
    ) -> str:
        if not getattr(request, "lean_exchange", None):
            finalized: str = super().finalize_id_token(id_token, token, token_handler, request)
            return finalized
        # DOT's, without its transaction around the row: code_rows.issue writes it.
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        header = {"typ": "JWT", "alg": request.client.algorithm}
        if request.client.algorithm == Application.RS256_ALGORITHM:
            header["kid"] = signing_key_id(request.client)
        signed = jwt.JWT(
            header=json.dumps(header, default=str), claims=json.dumps(id_token, default=str)
        )
        signed.make_signed_token(request.client.jwk_key)
        request.id_token = request.access_token = IDToken(
            user=request.user,
            scope=request.scope or " ".join(request.scopes),
            expires=expiration_time,
            jti=id_token["jti"],
            application=request.client,
        )
        return str(signed.serialize())

    def _issue(self, token: Token, request: Request) -> None:
        id_token = getattr(request, "id_token", None)
        if "scope" not in token or "refresh_token" not in token or id_token is None:
            raise errors.FatalClientError("Failed to issue tokens: unexpected token response")
        request.resource = []
        grant = request.portal_grant[1]
        issued = code_rows.Issued(
            grant_id=grant.pk,
            user_id=request.user.pk,
            application_id=request.client.pk,
            code_hash=request.lean_exchange,
            jti=id_token.jti,
            id_token_expires=id_token.expires,
            scope=token["scope"],
            access_token=token["access_token"],
            refresh_token=token["refresh_token"],
            expires=timezone.now()
            + timedelta(
                seconds=token.get("expires_in", oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
            ),
            resource=[],
        )
        if code_rows.issue(issued):
            return
        # Another request exchanged this code at the same moment: one of the two stole it.
        used = UsedAuthorizationCode.objects.filter(code_hash=request.lean_exchange).first()
        if used is not None:
            self._replayed(used, request)
        raise errors.InvalidGrantError(request=request)

    # -- cost of the token endpoint (bench/token_endpoint.py) ------------------------------------

    def _load_application(self, client_id: str, request: Request) -> Application | None:
        client = request.client
        if isinstance(client, Application) and client.client_id == client_id:
            return client
        cached = client_cache.get(client_id)
        if cached is not None:
            request.client = cached
            return cached
        client = super()._load_application(client_id, request)
        if (
            client is not None
            and client.registration_source == Application.RegistrationSource.MANUAL
        ):
            client_cache.put(client)
        return client

    def refresh_id_token(self, request: Request) -> bool:
        # OpenID Connect Core §12.2: a refresh response "might not contain an id_token". The
        # démarches re-read claims from userinfo; skipping it saves a signature, a row and the
        # claims queries on every refresh.
        return False

    def _create_access_token(
        self,
        expires: datetime,
        request: Request,
        token: Token,
        source_refresh_token: Any = None,  # DOT's RefreshToken
    ) -> Any:  # DOT's AccessToken
        # DOT re-parses and re-verifies the ID token it has just signed to find its row (an RSA
        # verification and two queries); finalize_id_token left that row on the request.
        id_token = getattr(request, "id_token", None)
        if not (token.get("id_token") and isinstance(id_token, IDToken)):
            return super()._create_access_token(expires, request, token, source_refresh_token)
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=id_token,
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []),
        )
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        return access_token

    # -- prompt=none (silent re-authentication, used by the démarches every few minutes) --------

    def validate_silent_login(self, request: Request) -> bool:
        # DOT's authorization view answers login_required itself when nobody is logged in
        # (handle_no_permission); it asks oauthlib only for a logged-in person.
        return True

    def validate_silent_authorization(self, request: Request) -> bool:
        # No consent screen for the ministry's own démarches; any other client must ask.
        return bool(request.client and request.client.skip_authorization)

    # -- refresh tokens: rotation, reuse detection, closed accounts ------------------------------
    #
    # DOT's versions of these two steps cost 14 queries per refresh (three locks of the same
    # rows, the user and the client loaded again). These do the same with 5 statements
    # (portail.oidc.refresh_rows), for the configuration of portail/settings/base.py only:
    # rotation on, reuse protection on, no grace period (a refresh token is used once; any
    # second use revokes its whole family, RFC 9700 §4.14.2). Anything else falls back to DOT.

    def _lean_refresh_configuration(self) -> bool:
        return (
            oauth2_settings.ROTATE_REFRESH_TOKEN
            and oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION
            and not oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS
        )

    def validate_refresh_token(
        self,
        refresh_token: str,
        client: Application,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        if not self._lean_refresh_configuration():
            if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
                return False
            return bool(request.user is not None and request.user.is_active)
        rt = self._usable_refresh_token(refresh_token, client)
        if rt is None:
            return False
        # Nothing on the refresh path reads the user (the new tokens take rt.user_id); load it
        # only if something ever does.
        request.user = SimpleLazyObject(partial(User.objects.get, pk=rt.user_id))
        request.refresh_token = refresh_token
        request.refresh_token_instance = rt
        return True

    def get_original_scopes(
        self, refresh_token: str, request: Request, *args: Any, **kwargs: Any
    ) -> list[str]:
        rt = request.refresh_token_instance
        if isinstance(rt, refresh_rows.LiveRefreshToken):
            scopes: list[str] = utils.scope_to_list(rt.original_scope)
            return scopes
        original: list[str] = super().get_original_scopes(refresh_token, request, *args, **kwargs)
        return original

    def _usable_refresh_token(
        self, refresh_token: str, client: Application
    ) -> refresh_rows.LiveRefreshToken | None:
        rt = refresh_rows.find_live(refresh_token)
        if rt is None:
            # Used already? Then someone replays it: revoke its whole family.
            family = (
                RefreshToken.objects.filter(token_checksum=checksum(refresh_token))
                .values_list("token_family", flat=True)
                .first()
            )
            if family:
                RefreshToken.revoke_family(family)
            return None
        if rt.access_token_id is None:  # orphan (its access token revoked): nothing to refresh
            return None
        expire_delta = refresh_token_expire_timedelta()
        expired = expire_delta and rt.access_expires + expire_delta <= timezone.now()
        if expired or rt.application_id != client.pk or not rt.user_is_active:
            return None
        return rt

    def _can_rotate_leanly(self, token: Token, request: Request) -> bool:
        return (
            self._lean_refresh_configuration()
            and "refresh_token" in token
            and "id_token" not in token
            and isinstance(
                getattr(request, "refresh_token_instance", None), refresh_rows.LiveRefreshToken
            )
        )

    def _rotate_refresh_token(self, token: Token, request: Request) -> None:
        """Revoke the presented refresh token and its access token, issue the new pair."""
        if "scope" not in token:
            raise errors.FatalClientError("Failed to renew access token: missing scope")
        self._check_and_set_request_resource(request)
        expires = timezone.now() + timedelta(
            seconds=token.get("expires_in", oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
        )
        rotated = refresh_rows.rotate(
            request.refresh_token_instance,
            access_token=token["access_token"],
            refresh_token=token["refresh_token"],
            scope=token["scope"],
            expires=expires,
            resource=request.resource,
        )
        if not rotated:  # a concurrent refresh with the same token won
            raise errors.InvalidGrantError(request=request)
