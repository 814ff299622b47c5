from django.apps import AppConfig


class CentresConfig(AppConfig):
    name = "portail.centres"
    label = "centres"
    verbose_name = "Centres agréés et périmètre des habilitations"
