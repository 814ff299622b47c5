"""Loads the demo data: each app's `demo.load(stdout) -> list[str]`, in order (`make demo`).

Idempotent: running it twice changes nothing. The lines returned are printed by the demo
launcher (URLs, credentials).
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from portail.accounts import demo as accounts_demo
from portail.backoffice import demo as backoffice_demo
from portail.companies import demo as companies_demo
from portail.demarches import demo as demarches_demo
from portail.oidc import demo as oidc_demo

# The order matters: companies before the accounts and centres that point to them.
DEMO_MODULES = [companies_demo, demarches_demo, accounts_demo, backoffice_demo, oidc_demo]


class Command(BaseCommand):
    help = "Loads the demo data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        lines: list[str] = []
        for module in DEMO_MODULES:
            with transaction.atomic():
                lines += module.load(self.stdout) or []
        for line in lines:
            self.stdout.write(line)
