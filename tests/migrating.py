"""Migrate the test database to a given point and back: for tests of hand-written migrations.

Use with `pytest.mark.django_db(transaction=True)`: migrations run outside the test's transaction.
"""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(*targets: tuple[str, str]):
    """Migrate to `targets` ((app, migration) pairs); the apps of the state they leave."""
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    return executor.loader.project_state(list(targets)).apps


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
