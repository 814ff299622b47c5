from django.urls import path

from portail.habilitations import review_views, views

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
    path("<slug:code>/revue-des-acces/<int:pk>/", review_views.review, name="review"),
    path(
        "<slug:code>/revue-des-acces/<int:pk>/confirmer/",
        review_views.confirm_all,
        name="review_confirm_all",
    ),
    path(
        "<slug:code>/revue-des-acces/<int:pk>/acces/<int:item_pk>/confirmer/",
        review_views.confirm_one,
        name="review_confirm_one",
    ),
    path(
        "<slug:code>/revue-des-acces/<int:pk>/acces/<int:item_pk>/retirer/",
        review_views.remove_one,
        name="review_remove_one",
    ),
]
