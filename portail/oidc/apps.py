from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "portail.oidc"
    label = "oidc"
