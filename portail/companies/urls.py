from django.urls import path

from portail.companies import views

app_name = "companies"

urlpatterns = [
    path("siret/<str:siret>/", views.siret_lookup, name="siret_lookup"),
]
