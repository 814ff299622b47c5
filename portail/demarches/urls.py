from django.urls import path

from portail.demarches import views

app_name = "demarches"

urlpatterns = [
    path("", views.mes_demarches, name="mes_demarches"),
]
