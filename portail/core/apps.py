from django.apps import AppConfig

from portail.core import csrf_random, health, housekeeping


class CoreConfig(AppConfig):
    name = "portail.core"
    label = "core"

    def ready(self) -> None:
        # The rate limits' module imports the models, loaded after the app configs.
        from portail.core import ratelimit  # noqa: PLC0415

        housekeeping.register_chore("sessions_cleared", housekeeping.clear_expired_sessions)
        housekeeping.register_chore("ratelimits_expired", ratelimit.delete_expired)
        health.register("cache", ratelimit.health)
        csrf_random.install()
