"""Loads the demo data: each app may have a `demo.py` with `load(stdout) -> list[str]`.

Idempotent: running it twice changes nothing. The lines returned are printed by the demo
launcher (URLs, credentials).
"""

import importlib
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

# The order matters: companies before the accounts and centres that point to them.
DEMO_MODULES = ["companies", "demarches", "accounts", "backoffice", "habilitations", "oidc"]


class Command(BaseCommand):
    help = "Loads the demo data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        lines: list[str] = []
        for label in DEMO_MODULES:
            app = apps.get_app_config(label)
            try:
                module = importlib.import_module(f"{app.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app.name}.demo":
                    raise
                continue
            with transaction.atomic():
                lines += module.load(self.stdout) or []
        for line in lines:
            self.stdout.write(line)
