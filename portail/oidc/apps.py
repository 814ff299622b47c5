from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "portail.oidc"
    label = "oidc"

    def ready(self) -> None:
        from portail.oidc import client_cache

        client_cache.connect_signals()
