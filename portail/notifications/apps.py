from django.apps import AppConfig

from portail.core import health


class NotificationsConfig(AppConfig):
    name = "portail.notifications"
    label = "notifications"

    def ready(self):
        # The health check shows the outbox backlog: a growing `outbox_pending` means the worker is
        # down or SMTP refuses (docs/deploy.md).
        outbox = self.get_model("OutboxEmail")
        health.register("outbox_pending", lambda: outbox.objects.pending().count())
        health.register("outbox_failed", lambda: outbox.objects.failed().count())
