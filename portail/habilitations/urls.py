from django.urls import path

from portail.habilitations import views

app_name = "habilitations"

urlpatterns = [
    # The link of the invitation email (before the démarche patterns, which take any slug).
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("invitations/en-attente/<int:pk>/", views.pending_invitation, name="pending_invitation"),
    path("<slug:code>/", views.manage, name="manage"),
    path("<slug:code>/inviter/", views.invite, name="invite"),
    path("<slug:code>/deleguer/", views.delegate, name="delegate"),
    path("<slug:code>/utilisateurs/", views.autocomplete, name="autocomplete"),
    path("<slug:code>/habilitations/<int:pk>/revoquer/", views.revoke, name="revoke"),
    path("<slug:code>/habilitations/<int:pk>/role/", views.change_role, name="change_role"),
    path("<slug:code>/invitations/<int:pk>/renvoyer/", views.resend, name="resend"),
    path("<slug:code>/invitations/<int:pk>/annuler/", views.cancel, name="cancel"),
]
