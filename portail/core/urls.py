from django.urls import path

from portail.core import views

urlpatterns = [
    path("mentions-legales/", views.legal_notice, name="legal_notice"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("healthz", views.healthz, name="healthz"),
]
