from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "portail.notifications"
    label = "notifications"
