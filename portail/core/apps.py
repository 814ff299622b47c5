from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "portail.core"
    label = "core"
