from django.apps import AppConfig


class DemarchesConfig(AppConfig):
    name = "portail.demarches"
    label = "demarches"
