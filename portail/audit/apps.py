from django.apps import AppConfig

from portail.core import housekeeping


class AuditConfig(AppConfig):
    name = "portail.audit"
    label = "audit"

    def ready(self) -> None:
        # The retention module imports the models, loaded after the app configs.
        from portail.audit import retention  # noqa: PLC0415

        housekeeping.register_chore("journal_purged", retention.purge_old_events)
