"""Run in a CERES process (tests/ceres/test_roles_since.py): `feed.roles_since`'s plain statement
against the ORM's query it replaced, on a test database of CERES' own vendor."""

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django

django.setup()

from django.db import connection  # noqa: E402

from ceres.web.feed import roles_since  # noqa: E402
from ceres.web.models import PortalRoles  # noqa: E402


def orm(sub: str, moment: datetime) -> dict[str, list[str]]:
    return {
        row.siret: list(row.roles)
        for row in PortalRoles.objects.filter(sub=sub, occurred_at__gt=moment)
    }


def main() -> None:
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        start = datetime(2026, 3, 29, 0, 30, 15, 123456, tzinfo=UTC)
        rolesets = [[], ["centre-agree"], ["gestionnaire-centres", "centre-agree"], ["rôle « é »"]]
        for number in range(40):
            PortalRoles.objects.create(
                sub=("sub-a", "sub-b", "sub'<&>\"", "")[number % 4],
                siret=f"{number:014d}",
                roles=rolesets[number % len(rolesets)],
                sequence=number,
                occurred_at=start + timedelta(minutes=17 * number, microseconds=number),
            )
        paris = ZoneInfo("Europe/Paris")
        compared = 0
        for sub in ("sub-a", "sub-b", "sub'<&>\"", "", "nobody", "SUB-A"):
            for minutes in (-60, 0, 16, 17, 170, 340, 1000):
                moment = start + timedelta(minutes=minutes)
                for edge in (moment, moment + timedelta(microseconds=3), moment.astimezone(paris)):
                    expected = orm(sub, edge)
                    got = roles_since(sub, edge)
                    assert got == expected, (sub, edge, got, expected)
                    compared += bool(expected)
        assert compared > 40, compared
        sys.stdout.write(f"compared {connection.vendor} {compared}\n")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
