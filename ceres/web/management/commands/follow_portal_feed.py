"""`ceres/manage.py follow_portal_feed`: read the portal's feed of habilitation changes from the
last event applied (after an outage of CERES; cron may run it every few minutes)."""

from typing import Any

from django.core.management.base import BaseCommand

from ceres.web.feed import catch_up


class Command(BaseCommand):
    help = "Reads the portal's feed of habilitation changes from the last event applied."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{catch_up()} événement(s) appliqué(s).")
