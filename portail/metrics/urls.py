from django.urls import path

from portail.metrics import views

urlpatterns = [path("metrics", views.metrics, name="metrics")]
