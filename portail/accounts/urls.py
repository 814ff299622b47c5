from django.urls import path

from portail.accounts import views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("inscription/", views.signup, name="signup"),
    path("mon-compte/", views.account, name="account"),
    path("agent/", views.agent_entry, name="agent_entry"),
]
