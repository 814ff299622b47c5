from typing import Any

from django.core.management.base import BaseCommand

from portail.core import housekeeping


class Command(BaseCommand):
    help = "Runs the chores the apps register (expired access requests, sessions, OAuth tokens)."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, count in housekeeping.run().items():
            self.stdout.write(f"{name}: {count}")
