"""The worker: delivers the outbox, forever (or once with --once), and on each poll the other
deliveries the apps registered (portail.core.deliveries: the démarches' webhooks)."""

import signal
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from portail.core import deliveries, housekeeping
from portail.notifications.delivery import deliver_pending


class Command(BaseCommand):
    help = "Delivers pending outbox emails over SMTP, with retries."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="Deliver what is due, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")
        parser.add_argument(
            "--housekeeping-every",
            type=float,
            default=600.0,
            help="Seconds between runs of the housekeeping chores (0: never).",
        )

    def handle(
        self,
        *args: Any,
        once: bool = False,
        interval: float = 1.0,
        housekeeping_every: float = 600.0,
        **options: Any,
    ) -> None:
        stopping = False
        next_housekeeping = time.monotonic()

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write("Email worker started.")
        while not stopping:
            close_old_connections()
            counts = deliver_pending()
            if any(counts.values()):
                self.stdout.write(
                    f"sent={counts['sent']} retry={counts['retry']} failed={counts['failed']}"
                )
            for name, done in deliveries.run().items():
                if any(done.values()):
                    self.stdout.write(f"{name}: " + " ".join(f"{k}={v}" for k, v in done.items()))
            if housekeeping_every and time.monotonic() >= next_housekeeping:
                housekeeping.run()
                next_housekeeping = time.monotonic() + housekeeping_every
            if once:
                break
            time.sleep(interval)
        self.stdout.write("Email worker stopped.")
