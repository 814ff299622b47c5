from django.apps import AppConfig
from django.db.models.signals import post_save

from portail.metrics import journal_counters, tracing


class MetricsConfig(AppConfig):
    name = "portail.metrics"
    label = "metrics"

    def ready(self) -> None:
        # Logins, second factor, codes redeemed: counted from the journal lines the flows already
        # write, so no flow has to know about metrics.
        post_save.connect(
            journal_counters.count_event,
            sender="audit.AuditEvent",
            dispatch_uid="portail.metrics.journal_counters",
        )
        tracing.configure()
