from django.contrib.auth.decorators import login_not_required
from django.urls import path
from mozilla_django_oidc.views import OIDCLogoutView

from ceres.web import backchannel_views, feed_views, views

app_name = "ceres_web"

urlpatterns = [
    path("", views.home, name="home"),
    path("etablissement/", views.choose_establishment, name="choose_establishment"),
    path("gestion/", views.management, name="management"),
    path("deconnexion/", login_not_required(OIDCLogoutView.as_view()), name="logout"),
    path("deconnexion/terminee/", views.logged_out, name="logged_out"),
    path("connexion/echec/", views.login_failed, name="login_failed"),
    path("portail/evenements/", feed_views.portal_events, name="portal_events"),
    path(
        "portail/deconnexion/",
        backchannel_views.backchannel_logout,
        name="backchannel_logout",
    ),
]
