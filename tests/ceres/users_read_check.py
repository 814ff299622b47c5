"""Run in a CERES process (tests/ceres/test_users_read.py): `auth._users_where`'s plain statement
against the ORM's query, field by field, on a test database of CERES' own vendor."""

import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402

from ceres.web.auth import _users_where  # noqa: E402


def fields(user: User) -> dict[str, object]:
    values = {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}
    return {**values, "_db": user._state.db, "_adding": user._state.adding}


def main() -> None:
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        moment = datetime(2026, 3, 29, 0, 30, 15, 123456, tzinfo=UTC)
        people = [
            User.objects.create(username="sub-a", email="a@x.fr", first_name="Zoé <&>"),
            User.objects.create(
                username="sub'<&>\"",
                email="",
                last_name='"Q"',
                last_login=moment,
                is_staff=True,
                is_superuser=True,
            ),
            User.objects.create(username="sub-c", is_active=False, last_login=moment),
        ]
        people[0].set_unusable_password()
        people[0].save()
        compared = 0
        for user in people:
            for column, value in (
                ("id", user.pk),
                ("id", str(user.pk)),
                ("username", user.username),
            ):
                (got,) = _users_where(column, value)
                expected = User.objects.get(**{column: value})
                assert fields(got) == fields(expected), (column, value)
                assert type(got.last_login) is type(expected.last_login)
                assert type(got.is_active) is bool
                compared += 1
        assert _users_where("id", "x") == []
        assert _users_where("id", 10**6) == []
        assert _users_where("username", "SUB-A") == []
        sys.stdout.write(f"compared {connection.vendor} {compared}\n")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
