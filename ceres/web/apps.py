from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ceres.web"
    label = "ceres_web"
    verbose_name = "CERES"
