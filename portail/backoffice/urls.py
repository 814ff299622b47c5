from django.urls import path

from portail.backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("connexion/", views.login, name="login"),
]
