"""The OpenID Connect provider's endpoints (django-oauth-toolkit), under /o/.

The issuer is <portal>/o: discovery at /o/.well-known/openid-configuration (OpenID Connect
Discovery 1.0 §4), RFC 8414 metadata at /.well-known/oauth-authorization-server/o (and the /o/
fallback). Only what the démarches use is mounted: no application management pages, no device
flow, no dynamic registration (clients are registered by `manage.py register_demarche_client`).
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from oauth2_provider import views as oauth2_views

from portail.oidc import views

provider_patterns = [
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="revoke-token"),
    path(
        ".well-known/openid-configuration",
        views.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", oauth2_views.JwksInfoView.as_view(), name="jwks-info"),
    path(
        ".well-known/oauth-authorization-server",
        oauth2_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path("userinfo/", views.UserInfoView.as_view(), name="user-info"),
    path("logout/", views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
]

urlpatterns = [
    path("o/", include((provider_patterns, "oauth2_provider"))),
    # RFC 8414 §3: the metadata of the issuer <portal>/o lives at the origin's well-known path.
    path(
        ".well-known/oauth-authorization-server/<path:issuer_path>",
        oauth2_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata-issuer",
    ),
    # For people and clients that look at the root: the document is the issuer's.
    path(
        ".well-known/openid-configuration",
        login_not_required(
            RedirectView.as_view(url="/o/.well-known/openid-configuration", permanent=False)
        ),
        name="oidc-discovery-root",
    ),
]
