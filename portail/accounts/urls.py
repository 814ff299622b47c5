from django.urls import path

from portail.accounts import mfa_urls, sessions_views, views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("inscription/", views.signup, name="signup"),
    path("inscription/envoyee/", views.signup_done, name="signup_done"),
    path("inscription/anti-robot/", views.altcha_challenge, name="altcha_challenge"),
    path("activation/renvoyer/", views.resend_activation, name="resend_activation"),
    path("activation/<str:token>/", views.activate, name="activate"),
    path("mot-de-passe-oublie/", views.password_reset, name="password_reset"),
    path("mot-de-passe-oublie/envoye/", views.password_reset_done, name="password_reset_done"),
    path(
        "mot-de-passe-oublie/<str:token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("mon-compte/", views.account, name="account"),
    path("mon-compte/mot-de-passe/", views.password_change, name="password_change"),
    path("mon-compte/adresse/", views.email_change, name="email_change"),
    path(
        "mon-compte/adresse/<str:token>/", views.email_change_confirm, name="email_change_confirm"
    ),
    path("mon-compte/sessions/", sessions_views.sessions, name="sessions"),
    path("mon-compte/sessions/fermer/", sessions_views.end_session, name="end_session"),
    path(
        "mon-compte/sessions/fermer-les-autres/",
        sessions_views.end_other_sessions,
        name="end_other_sessions",
    ),
    path("mon-compte/suppression/", views.account_delete, name="account_delete"),
    path("mon-compte/mes-donnees/", views.my_data_page, name="my_data"),
    path("reactivation/<str:token>/", views.reactivate, name="reactivate"),
    path("en-savoir-plus/", views.about, name="about"),
    path("agent/", views.agent_entry, name="agent_entry"),
]

urlpatterns += mfa_urls.urlpatterns  # second factors: portail/accounts/mfa_urls.py
