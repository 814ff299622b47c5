"""`ceres/manage.py follow_portal_feed`: read the portal's feed of habilitation changes from the
last event applied (after an outage of CERES; cron may run it every few minutes), and forget the
ids of events applied more than 30 days ago (the last one is kept: it is the cursor)."""

from typing import Any

from django.core.management.base import BaseCommand

from ceres.web.feed import catch_up, forget_old_events


class Command(BaseCommand):
    help = "Reads the portal's feed of habilitation changes from the last event applied."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{catch_up()} événement(s) appliqué(s).")
        forgotten = forget_old_events()
        if forgotten:
            self.stdout.write(
                f"{forgotten} identifiant(s) d’événement de plus de 30 jours oublié(s)."
            )
