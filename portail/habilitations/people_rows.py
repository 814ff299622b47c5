"""The "Personnes habilitées" tab of the management page in two plain statements: its counts
(per role, the persons and the rows; the delegations) and its page of people (each role's window,
the most recent first, with the person, the establishment and who granted it).

The ORM said the same in four to five queries (the counts, the delegations' count, one id query
per role on the page, the rows) whose compiling cost more than running them. The SQL is written
once per database vendor and shape of the search (how many establishments, how many words typed)
from the models' tables and the backend's own `istartswith`; its values are converted as the ORM
converts them (`portail.core.sql_read`) into plain rows (`PersonRow`: what the page writes, no
model instance). `tests/habilitations/test_people_rows.py` checks both against the ORM's
(`queries.PeopleByRole`, `queries.people_counts`) case by case.

The search by SIRET is an establishment of the scope (the page reads them all): the statements
take the ids it leaves.
"""

# ruff: noqa: S608 (SQL built from the models' names; every value is a parameter)
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Field
from django.utils import timezone

from portail.companies.models import Establishment
from portail.core import sql_read
from portail.demarches.models import Role
from portail.habilitations.models import Habilitation
from portail.habilitations.queries import NAME_WORDS

DELEGATION = Habilitation.Origin.DELEGATION.value


@dataclass(frozen=True)
class Search:
    """Whose habilitations the tab lists: the démarche, the establishments (the scope, or the
    one searched by SIRET), the text searched (name words, or the start of the address)."""

    demarche_id: int
    establishment_ids: Sequence[int]
    text: str = ""

    @property
    def words(self) -> list[str]:
        return self.text.split()[:NAME_WORDS]


@dataclass(frozen=True)
class TabCounts:
    persons: dict[int, int]  # per role: the persons (distinct accounts) not delegated
    rows: dict[int, int]  # per role: the habilitations not delegated
    delegations: int


class Person:
    """An account as the page writes it: `get_full_name()` and `str()` are the User model's."""

    __slots__ = ("email", "first_name", "last_name")

    def __init__(self, email: str, first_name: str, last_name: str) -> None:
        self.email, self.first_name, self.last_name = email, first_name, last_name

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __str__(self) -> str:
        return self.get_full_name() or self.email


@dataclass(slots=True)
class Place:
    """An establishment as the page writes it."""

    siret: str
    name: str


@dataclass(slots=True, eq=False)
class PersonRow:
    """One habilitation of the page of people, as `people_table.row` writes it: plain values,
    not the four model instances (`from_db`) a row took when the template read it."""

    pk: int
    user_id: int
    role_id: int
    origin: str
    granted_at: datetime
    ends_at: datetime | None
    user: Person
    establishment: Place
    granted_by: Person | None
    role: Role
    change_role_url: str = ""
    revoke_url: str = ""

    def get_origin_display(self) -> str:
        """What the model's `get_origin_display()` says."""
        return str(_origin_labels().get(self.origin, self.origin))


@cache
def _origin_labels() -> dict[str, Any]:
    return dict(Habilitation._meta.get_field("origin").flatchoices)


def _q(name: str) -> str:
    return str(connection.ops.quote_name(name))


def _col(alias: str, model: Any, name: str) -> str:
    return f"{alias}.{_q(model._meta.get_field(name).column)}"


@cache
def _where(vendor: str, establishments: int, words: int, text: bool) -> str:
    """The condition of `active()` on the démarche and establishments, with the search: each
    word starts the first or the last name, or the text starts the address (`name_filter`)."""
    h, user = Habilitation, get_user_model()
    in_list = ", ".join(["%s"] * establishments)
    where = (
        f"{_col('h', h, 'revoked_at')} IS NULL"
        f" AND ({_col('h', h, 'ends_at')} IS NULL OR {_col('h', h, 'ends_at')} > %s)"
        f" AND {_col('h', h, 'suspended_at')} IS NULL"
        f" AND {_col('h', h, 'demarche')} = %s AND {_col('h', h, 'establishment')} IN ({in_list})"
    )
    if not text:
        return where
    starts = connection.operators["istartswith"] % "%s"

    def cast(name: str) -> str:
        field: Field[Any, Any] = user._meta.get_field(name)  # type: ignore[assignment]  # a column
        expression: str = connection.ops.lookup_cast("istartswith", field.get_internal_type())
        return expression % _col("u", user, name)

    names = " AND ".join(
        [f"({cast('last_name')} {starts} OR {cast('first_name')} {starts})"] * words
    )
    by_email = f"{cast('email')} {starts}"
    return f"{where} AND ({f'({names}) OR ' if words else ''}{by_email})"


def _params(search: Search) -> list[Any]:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any] = [now, search.demarche_id, *search.establishment_ids]
    if search.text:
        for word in search.words:
            pattern = f"{connection.ops.prep_for_like_query(word)}%"
            params += [pattern, pattern]
        params.append(f"{connection.ops.prep_for_like_query(search.text)}%")
    return params


def _shape(search: Search) -> tuple[str, int, int, bool]:
    return (connection.vendor, len(search.establishment_ids), len(search.words), bool(search.text))


def _from(text: bool) -> str:
    """The habilitations, joined to their account only when the search needs its names."""
    h = f"{_q(Habilitation._meta.db_table)} h"
    if not text:
        return h
    user = get_user_model()
    account = f"u.{_q('id')} = {_col('h', Habilitation, 'user')}"
    return f"{h} INNER JOIN {_q(user._meta.db_table)} u ON {account}"


@cache
def _counts_sql(shape: tuple[str, int, int, bool], roles: int) -> str:
    """One `SELECT` per role joined by `UNION ALL`: each reads its role's entries of the index
    `live_habilitation_cover` (`role` follows the establishment) and needs no `GROUP BY`, whose
    sort of every entry cost as much as the `COUNT(DISTINCT …)` (docs/decisions/0014, sixth
    session, the counts). On one establishment the persons are the rows (one live habilitation
    per person, establishment and role: `one_live_habilitation_per_role`): no `DISTINCT`."""
    h = Habilitation
    origin, role = _col("h", h, "origin"), _col("h", h, "role")
    persons = (
        f"COUNT(DISTINCT CASE WHEN {origin} <> %s THEN {_col('h', h, 'user')} END)"
        if shape[1] > 1
        else "0"
    )
    one = (
        f"SELECT MAX({role}), {persons}, COUNT(CASE WHEN {origin} <> %s THEN 1 END),"
        f" COUNT(CASE WHEN {origin} = %s THEN 1 END)"
        f" FROM {_from(shape[3])} WHERE {_where(*shape)} AND {role} = %s"
    )
    return " UNION ALL ".join([one] * roles)


def counts(search: Search, role_ids: Sequence[int]) -> TabCounts:
    """The tab's counts for the démarche's roles `role_ids` (a habilitation's role is one of
    its démarche's: `flows` and `access_requests` check it) in one statement."""
    if not search.establishment_ids or not role_ids:
        return TabCounts({}, {}, 0)
    shape = _shape(search)
    distinct = [DELEGATION] if shape[1] > 1 else []
    params: list[Any] = []
    for role_id in role_ids:
        params += [*distinct, DELEGATION, DELEGATION, *_params(search), role_id]
    with connection.cursor() as cursor:
        cursor.execute(_counts_sql(shape, len(role_ids)), params)
        grouped = cursor.fetchall()
    persons: dict[int, int] = {}
    rows: dict[int, int] = {}
    delegations = 0
    for role_id, distinct_users, n, delegated in grouped:
        delegations += delegated
        if n:
            persons[role_id] = distinct_users if distinct else n
            rows[role_id] = n
    return TabCounts(persons, rows, delegations)


def windows(
    roles: Sequence[Role], rows: dict[int, int], start: int, stop: int
) -> list[tuple[int, int, int]]:
    """The rows `start:stop` of the list role after role: (role id, offset, limit) per role."""
    found: list[tuple[int, int, int]] = []
    first = 0
    for role in roles:
        count = rows.get(role.pk, 0)
        low, high = max(start, first), min(stop, first + count)
        if low < high:
            found.append((role.pk, low - first, high - low))
        first += count
    return found


@cache
def _loaded() -> tuple[list[Any], list[Any], list[Any]]:
    """The columns the page shows: of the habilitation, of the accounts, of the establishment."""
    user = get_user_model()
    return (
        sql_read.fields(
            Habilitation,
            (
                "id",
                "user",
                "establishment",
                "role",
                "origin",
                "granted_by",
                "granted_at",
                "ends_at",
            ),
        ),
        sql_read.fields(user, ("id", "email", "first_name", "last_name")),
        sql_read.fields(Establishment, ("id", "siret", "name")),
    )


@cache
def _page_sql(shape: tuple[str, int, int, bool], parts: int, text: bool) -> str:
    h, user = Habilitation, get_user_model()
    hab, people, places = _loaded()
    alias = connection.alias
    window = (
        f"SELECT {_col('h', h, 'id')} FROM {{source}} WHERE {_where(*shape)}"
        f" AND {_col('h', h, 'origin')} <> %s AND {_col('h', h, 'role')} = %s"
        f" ORDER BY {_col('h', h, 'granted_at')} DESC, {_col('h', h, 'id')} DESC LIMIT %s OFFSET %s"
    )
    window = window.format(source=_from(text))
    ids = " UNION ALL ".join(f"SELECT * FROM ({window}) w{n}" for n in range(parts))
    users = _q(user._meta.db_table)
    return (
        f"SELECT {sql_read.columns(alias, 'h', hab)}, {sql_read.columns(alias, 'u', people)},"
        f" {sql_read.columns(alias, 'e', places)}, {sql_read.columns(alias, 'g', people)}"
        f" FROM {_q(h._meta.db_table)} h"
        f" INNER JOIN {users} u ON u.{_q('id')} = {_col('h', h, 'user')}"
        f" INNER JOIN {_q(Establishment._meta.db_table)} e"
        f" ON e.{_q('id')} = {_col('h', h, 'establishment')}"
        f" LEFT JOIN {users} g ON g.{_q('id')} = {_col('h', h, 'granted_by')}"
        f" WHERE {_col('h', h, 'id')} IN ({ids})"
    )


def page(
    search: Search, roles: Sequence[Role], rows: dict[int, int], start: int, stop: int
) -> list[PersonRow]:
    """The habilitations `start:stop` of the tab's list (not delegated), role after role in the
    order of `roles`, the most recent first within a role: one statement."""
    parts = windows(roles, rows, start, stop)
    if not parts or not search.establishment_ids:
        return []
    params: list[Any] = []
    for role_id, offset, limit in parts:
        params += [*_params(search), DELEGATION, role_id, limit, offset]
    sql = _page_sql(_shape(search), len(parts), bool(search.text))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    return _built(fetched, {role.pk: role for role in roles}, [role.pk for role in roles])


@cache
def _converters(vendor: str) -> sql_read.Converters:
    hab, people, places = _loaded()
    return sql_read.converters(connection.alias, [*hab, *people, *places, *people])


@cache
def _at() -> dict[str, int]:
    """Where each value sits in a row of the page's statement (`_page_sql`'s columns)."""
    hab, people, places = _loaded()
    names = [
        *(f"h.{field.name}" for field in hab),
        *(f"u.{field.name}" for field in people),
        *(f"e.{field.name}" for field in places),
        *(f"g.{field.name}" for field in people),
    ]
    return {name: n for n, name in enumerate(names)}


def _built(fetched: list[Any], by_id: dict[int, Role], order: list[int]) -> list[PersonRow]:
    alias, converters, at = connection.alias, _converters(connection.vendor), _at()
    found: list[PersonRow] = []
    for row in fetched:
        v = sql_read.converted(alias, row, converters)
        found.append(
            PersonRow(
                pk=v[at["h.id"]],
                user_id=v[at["h.user"]],
                role_id=v[at["h.role"]],
                origin=v[at["h.origin"]],
                granted_at=v[at["h.granted_at"]],
                ends_at=v[at["h.ends_at"]],
                user=Person(v[at["u.email"]], v[at["u.first_name"]], v[at["u.last_name"]]),
                establishment=Place(v[at["e.siret"]], v[at["e.name"]]),
                granted_by=None
                if v[at["g.id"]] is None
                else Person(v[at["g.email"]], v[at["g.first_name"]], v[at["g.last_name"]]),
                role=by_id[v[at["h.role"]]],
            )
        )
    position = {role_id: n for n, role_id in enumerate(order)}
    found.sort(key=lambda h: (position[h.role_id], -h.granted_at.timestamp(), -h.pk))
    return found
