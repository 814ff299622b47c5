"""PostgreSQL indexes for the colleague autocomplete (portail.habilitations.queries).

The search is "each word starts the first or the last name, any case": UPPER(name) LIKE 'WORD%'.
On PostgreSQL a btree index serves such a prefix only with the text_pattern_ops operator class
(whatever the database's collation), which Django's Meta.indexes cannot declare for SQLite too:
these indexes are PostgreSQL's only. SQLite answers from the (declared_siren, last_name,
first_name) index of the model.

Two indexes, (declared_siren, UPPER(last_name)) and (declared_siren, UPPER(first_name)): the
people of one company whose first or last name starts with a word, as a union of two index
ranges. For "Marie Du" in a company of 5,000 people among 1,000,000 accounts, 0.5 ms instead of
6 ms reading the whole company (bench/habilitations.py).

Built CONCURRENTLY, so that deploying on a populated base does not lock the accounts table, then
ANALYZEd.
"""

from django.db import migrations

INDEXES = {
    "accounts_user_siren_upper_last_name": "declared_siren, UPPER(last_name) text_pattern_ops",
    "accounts_user_siren_upper_first_name": "declared_siren, UPPER(first_name) text_pattern_ops",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON accounts_user ({columns})"
        )
    # Statistics of the indexed expressions, which the planner needs to know a name is rare:
    # without them it guesses, and may walk the whole table instead (seen: 600 ms rather than 1).
    schema_editor.execute("ANALYZE accounts_user")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("accounts", "0002_account_token")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
