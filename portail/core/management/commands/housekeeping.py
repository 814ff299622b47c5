from typing import Any

from django.core.management.base import BaseCommand

from portail.core import housekeeping


class Command(BaseCommand):
    help = "Expires old access requests, clears expired sessions and OAuth tokens."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, count in housekeeping.run().items():
            self.stdout.write(f"{name}: {count}")
