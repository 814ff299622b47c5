from django.apps import AppConfig

from portail.core import housekeeping


class CoreConfig(AppConfig):
    name = "portail.core"
    label = "core"

    def ready(self) -> None:
        housekeeping.register_chore("sessions_cleared", housekeeping.clear_expired_sessions)
