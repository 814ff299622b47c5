from django.apps import AppConfig


class HabilitationsConfig(AppConfig):
    name = "portail.habilitations"
    label = "habilitations"
