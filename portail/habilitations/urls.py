from django.urls import path

from portail.habilitations import views

app_name = "habilitations"

urlpatterns = [
    path("<slug:code>/", views.manage, name="manage"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
