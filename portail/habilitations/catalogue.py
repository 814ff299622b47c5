""" "Mes démarches"'s catalogue in one plain statement: the active démarches, each joined to the
person's live habilitations of it with their role and establishment (what `queries.catalogue_for`
reads with the ORM in two queries, whose compiling cost more than running them: 41 % of the page).

The SQL is written once per database vendor from the models' tables; the démarches are built by
the ORM's own `from_db` and column converters: the held ones at once, the others only when
"Les autres démarches" is rendered (once per process for the same rows, whose values as read are
its key). `tests/habilitations/test_catalogue.py` checks it
against `queries.catalogue_for` case by case (suspended, ended, revoked, delegated, another
person's, an inactive démarche).
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, overload

from django.db import connection
from django.utils import timezone

from portail.companies.models import Establishment
from portail.core import sql_read
from portail.demarches.models import Demarche, Role
from portail.habilitations.models import Habilitation
from portail.habilitations.queries import HELD_TILE_FIELDS, Catalogue, Suspension, held_tile_key

if TYPE_CHECKING:
    from portail.accounts.models import User


@cache
def _statement(vendor: str) -> tuple[str, list[str], sql_read.Converters, sql_read.Converters]:
    """The SQL for `vendor`, the démarche's field names, their converters and those of the two
    habilitation dates (ends_at, suspended_at)."""
    q = connection.ops.quote_name
    d, h = Demarche._meta, Habilitation._meta
    fields = d.concrete_fields
    columns = ", ".join(f"d.{q(field.column)}" for field in fields)

    def col(model: type[Any], name: str) -> str:
        return q(model._meta.get_field(name).column)

    sql = (
        f"SELECT {columns}, h.{q('id')}, r.{col(Role, 'can_manage')}, h.{col(Habilitation, 'origin')},"
        f" h.{col(Habilitation, 'ends_at')}, h.{col(Habilitation, 'suspended_at')},"
        f" h.{col(Habilitation, 'suspension_reason')}, e.{col(Establishment, 'name')},"
        f" r.{col(Role, 'label')}"
        f" FROM {q(d.db_table)} d"
        f" LEFT JOIN ({q(h.db_table)} h"
        f" INNER JOIN {q(Role._meta.db_table)} r ON r.{q('id')} = h.{col(Habilitation, 'role')}"
        f" INNER JOIN {q(Establishment._meta.db_table)} e"
        f" ON e.{q('id')} = h.{col(Habilitation, 'establishment')})"
        f" ON h.{col(Habilitation, 'demarche')} = d.{q('id')}"
        f" AND h.{col(Habilitation, 'user')} = %s AND h.{col(Habilitation, 'revoked_at')} IS NULL"
        f" AND (h.{col(Habilitation, 'ends_at')} IS NULL OR h.{col(Habilitation, 'ends_at')} > %s)"
        f" WHERE d.{col(Demarche, 'is_active')} = %s"
        # The démarches in their model's order, each one's habilitations by SIRET (the ORM's).
        f" ORDER BY d.{col(Demarche, 'order')}, d.{col(Demarche, 'long_name')}, d.{q('id')},"
        f" e.{col(Establishment, 'siret')}"
    )
    alias = connection.alias
    dates = sql_read.converters(alias, [Habilitation._meta.get_field("ends_at")])
    return sql, [f.attname for f in fields], sql_read.converters(alias, fields), dates


@cache
def _tile_columns(vendor: str) -> list[int]:
    """Where a held tile's HELD_TILE_FIELDS are among the statement's columns."""
    names = _statement(vendor)[1]
    return [names.index(name) for name in HELD_TILE_FIELDS]


def catalogue_of(user: "User") -> Catalogue:
    """What `queries.catalogue_for(user)` answers, read in one statement."""
    sql, names, converters, dates = _statement(connection.vendor)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, now, True])
        rows = cursor.fetchall()
    width, pk = len(names), names.index(Demarche._meta.pk.attname)

    def demarche_of(row: tuple[Any, ...]) -> Demarche:
        return Demarche.from_db(
            connection.alias, names, sql_read.converted(connection.alias, row[:width], converters)
        )

    held: list[list[Any]] = []  # each held démarche's values, converted
    other_rows: list[tuple[Any, ...]] = []
    # What the page reads of each held démarche, as `queries.catalogue_for` sets it.
    manages: set[int] = set()
    delegation_ends: dict[int, datetime] = {}
    suspensions: dict[int, list[Suspension]] = {}
    last = None
    for row in rows:
        if row[pk] != last:
            last = row[pk]
            if row[width] is None:  # not held: one row, no habilitation
                other_rows.append(row[:width])
                continue
            held.append(sql_read.converted(connection.alias, row[:width], converters))
        habilitation, can_manage, origin, ends_at, suspended_at, reason, name, label = row[width:]
        if habilitation is None:
            continue
        if suspended_at is not None:  # shown with its reason; gives no access
            suspensions.setdefault(row[pk], []).append(
                Suspension(
                    name,
                    label,
                    Habilitation.Suspension(reason).label if reason else "",
                    _converted(suspended_at, dates),
                )
            )
            continue
        if can_manage:
            manages.add(row[pk])
        if origin == Habilitation.Origin.DELEGATION and ends_at is not None:
            ends = _converted(ends_at, dates)
            soonest = delegation_ends.get(row[pk])
            delegation_ends[row[pk]] = ends if soonest is None else min(soonest, ends)
    shown: list[dict[str, Any]] = []  # what the page reads of each, as catalogue_for sets it
    keys: list[tuple[object, ...]] = []
    tile = _tile_columns(connection.vendor) if held else []
    for values in held:
        its_manages = values[pk] in manages
        its_end = delegation_ends.get(values[pk])
        its_suspensions = suspensions.get(values[pk], [])
        shown.append(
            {
                "held": True,
                "manages": its_manages,
                "delegation_ends_at": its_end,
                "suspensions": its_suspensions,
            }
        )
        keys.append(held_tile_key([values[i] for i in tile], its_manages, its_end, its_suspensions))
    return Catalogue(
        held=_Built(
            len(held),
            lambda i: _with(Demarche.from_db(connection.alias, names, held[i]), shown[i]),
        ),
        others=_Built(
            len(other_rows),
            lambda i: _with(demarche_of(other_rows[i]), {**_NOT_HELD, "suspensions": []}),
        ),
        others_key=tuple(other_rows),
        held_keys=keys,
    )


# What the page reads of a démarche not held.
_NOT_HELD = {"held": False, "manages": False, "delegation_ends_at": None}


def _with(demarche: Demarche, shown: dict[str, Any]) -> Demarche:
    vars(demarche).update(shown)
    return demarche


class _Built(Sequence[Demarche]):
    """Démarches built (`build(i)`: the i-th, with what the page reads of it) when first read:
    the held ones' tiles are mostly kept, "Les autres démarches" too (mes_demarches_views)."""

    def __init__(self, count: int, build: Callable[[int], Demarche]):
        self._count, self._build = count, build

    @cached_property
    def _demarches(self) -> list[Demarche]:
        return [self._build(i) for i in range(self._count)]

    @overload
    def __getitem__(self, index: int) -> Demarche: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Demarche]: ...
    def __getitem__(self, index: int | slice) -> Demarche | Sequence[Demarche]:
        return self._demarches[index]

    def __len__(self) -> int:
        return self._count


def _converted(value: Any, converters: sql_read.Converters) -> datetime:
    result: datetime = sql_read.converted(connection.alias, [value], converters)[0]
    return result
