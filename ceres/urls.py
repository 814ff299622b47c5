from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from mozilla_django_oidc.views import OIDCLogoutView

from ceres.web import views
from ceres.web.auth import AuthenticationRequestView

urlpatterns = [
    path("", include("ceres.web.urls")),
    path(
        "oidc/authenticate/",
        login_not_required(AuthenticationRequestView.as_view()),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        login_not_required(views.CallbackView.as_view()),
        name="oidc_authentication_callback",
    ),
    path("oidc/logout/", login_not_required(OIDCLogoutView.as_view()), name="oidc_logout"),
]
