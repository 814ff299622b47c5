from django.apps import AppConfig

from portail.core import housekeeping


class HabilitationsConfig(AppConfig):
    name = "portail.habilitations"
    label = "habilitations"

    def ready(self) -> None:
        # The flows import models, which Django loads after the app configs: importable here, once
        # the registry is ready, and not at the top of this module.
        from portail.habilitations import limits  # noqa: F401, PLC0415 -- registers the limiters
        from portail.habilitations.access_requests import expire_access_requests  # noqa: PLC0415
        from portail.habilitations.access_review import access_reviews_chore  # noqa: PLC0415
        from portail.habilitations.grants import end_ended_delegations  # noqa: PLC0415

        housekeeping.register_chore("access_requests_expired", expire_access_requests)
        housekeeping.register_chore("delegations_ended", end_ended_delegations)
        housekeeping.register_chore("access_reviews", access_reviews_chore)
