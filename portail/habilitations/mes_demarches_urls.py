from django.urls import path

from portail.habilitations import mes_demarches_views as views

# Habilitations' pages keep the URLs (/demarches/…) and names (demarches:…) they had in demarches.
app_name = "demarches"

urlpatterns = [
    path("", views.mes_demarches, name="mes_demarches"),
    path("<slug:code>/ajouter/", views.add_demarche, name="add"),
    path("<slug:code>/ajouter/code-activation/", views.activate, name="activate"),
    path("<slug:code>/ajouter/demande-acces/", views.request_access, name="request_access"),
    path(
        "demandes-acces/<int:pk>/accepter/",
        views.access_request_accept,
        name="access_request_accept",
    ),
    path(
        "demandes-acces/<int:pk>/refuser/",
        views.access_request_refuse,
        name="access_request_refuse",
    ),
]
