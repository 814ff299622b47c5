from typing import TYPE_CHECKING, cast

from django.apps import AppConfig

from portail.core import health, housekeeping

if TYPE_CHECKING:
    from portail.notifications.models import OutboxEmail


class NotificationsConfig(AppConfig):
    name = "portail.notifications"
    label = "notifications"

    def ready(self) -> None:
        # The health check shows the outbox backlog: a growing `outbox_pending` means the worker is
        # down or SMTP refuses (docs/deploy.md).
        outbox = cast("type[OutboxEmail]", self.get_model("OutboxEmail"))
        health.register("outbox_pending", lambda: outbox.objects.pending().count())
        health.register("outbox_failed", lambda: outbox.objects.failed().count())
        from portail.notifications import retention  # noqa: PLC0415

        housekeeping.register_chore("outbox_bodies_purged", retention.purge_old_bodies)
