"""Shared fixtures: a small city with two branches, and named people in every role.

江城市公安局 3303 (市局)
├── 治安支队 330302 (支队)
├── 城东分局 330310 (分局)
│   ├── 城关派出所 33031001
│   ├── 东湖派出所 33031002
│   └── 城东交警大队 33031003 (大队)
└── 城西分局 330320 (分局)
    └── 西山派出所 33032001
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import override_settings

from accounts.models import Role, Unit, UnitKind, User
from accounts.services import grant_role
from notifications.models import Event
from tasks.models import Campaign
from tasks.services.plans import import_plan

from . import snapshots

TREE = [
    ("3303", "江城市公安局", None, UnitKind.CITY),
    ("330302", "治安支队", "3303", UnitKind.DETACHMENT),
    ("330310", "城东分局", "3303", UnitKind.SUBBUREAU),
    ("33031001", "城关派出所", "330310", UnitKind.STATION),
    ("33031002", "东湖派出所", "330310", UnitKind.STATION),
    ("33031003", "城东交警大队", "330310", UnitKind.BRIGADE),
    ("330320", "城西分局", "3303", UnitKind.SUBBUREAU),
    ("33032001", "西山派出所", "330320", UnitKind.STATION),
]


@pytest.fixture(autouse=True, scope="session")
def _fast_passwords():
    # PBKDF2's million rounds cost half a second per user; tests are not about hashing. Once for the
    # session, so that the worlds built once per module (tests/matrix_support.py) hash fast too.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True, scope="session")
def _kept_statements_verified():
    # every SELECT written from a kept shape is also written by Django and compared (utilities.backends.kept):
    # the whole suite checks that a shape holds everything that writes a statement's text
    with override_settings(KEPT_SQL_VERIFY=True):
        yield


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory):
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True, scope="session")
def _plans_in_the_request():
    # the suite runs no worker (REDIS_URL or not): an uploaded plan's dry run and import run in the
    # request, as in the embedded default; tests/web/test_plan_jobs.py turns the background job on
    with override_settings(PLAN_UPLOADS_IN_BACKGROUND=False):
        yield


@dataclass
class City:
    units: dict[str, Unit]
    people: dict[str, User]

    def __getitem__(self, key: str):
        return self.people.get(key) or self.units[key]


def build_tree() -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for code, name, parent, kind in TREE:
        unit = Unit(code=code, name=name, kind=kind)
        if parent is None:
            units[code] = Unit.objects.add_root(instance=unit)
        else:
            units[parent].refresh_from_db()
            units[code] = Unit.objects.add_child(units[parent], instance=unit)
    for unit in units.values():
        unit.refresh_from_db()
    return units


def make_user(username: str, unit: Unit, *grants: tuple[str, Unit], name: str = "") -> User:
    user = User.objects.create_user(username, password="pw-" + username, name=name or username, unit=unit)
    for role, scope_unit in grants:
        grant_role(user=user, role=role, unit=scope_unit)
    user.refresh_from_db()
    return user


def build_city() -> City:
    u = build_tree()
    people = {
        # HQ office staff at the city bureau
        "hq": make_user("hq", u["3303"], (Role.HQ, u["3303"]), name="王晓燕"),
        # the sub-bureau lead of 城东分局, and a station lead under it
        "east_lead": make_user("east_lead", u["330310"], (Role.UNIT_LEAD, u["330310"]), name="李东"),
        "station_lead": make_user("station_lead", u["33031001"], (Role.UNIT_LEAD, u["33031001"]), name="赵关"),
        # a city inspector, and the sub-bureau's leader (read-only)
        "inspector": make_user("inspector", u["3303"], (Role.INSPECTOR, u["3303"]), name="孙督"),
        "east_leader": make_user("east_leader", u["330310"], (Role.LEADER, u["330310"]), name="钱局"),
        # the outsider: lead of the other branch
        "west_lead": make_user("west_lead", u["330320"], (Role.UNIT_LEAD, u["330320"]), name="周西"),
        # a user with no role at all
        "nobody": make_user("nobody", u["330310"]),
    }
    return City(u, people)


def load_city(city: City) -> City:
    """The city's units and people as they are in the database now (new objects)."""
    units = Unit.objects.in_bulk(list(city.units), field_name="code")
    people = User.objects.in_bulk(list(city.people), field_name="username")
    return City({code: units[code] for code in city.units}, {name: people[name] for name in city.people})


@pytest.fixture
def city(db) -> City:
    # built once per process, its rows put back for each later test (tests/snapshots.py)
    return snapshots.kept("city", build_city, load_city)


@pytest.fixture
def west_inspector(city) -> User:
    """An inspector of the west sub-bureau only (the city inspector's scope is the whole city)."""
    return make_user("west_insp", city.units["330320"], (Role.INSPECTOR, city.units["330320"]), name="吴督")


def publish_plan(tmp_path) -> str:
    """The small test plan of tests/tasks/planfiles.py, published over the test city; its code."""
    from tests.tasks.planfiles import CAMPAIGN, write_xlsx

    opts = {k: CAMPAIGN[k] for k in ("name", "code", "start", "end", "owner")}
    import_plan(path=write_xlsx(tmp_path / "plan.xlsx"), publish=True, **opts)
    # Publishing told each unit's leads of their work (notifications.events); the tests built on this
    # plan count the reminders' messages in the outbox, so start them from an empty one. The events of
    # publishing are tested in tests/notifications/test_events.py.
    Event.objects.all().delete()
    return CAMPAIGN["code"]


@pytest.fixture
def published(city, tmp_path) -> Campaign:
    """The small test plan of tests/tasks/planfiles.py, published over the test city (12 assignments)."""
    # built once per process, its rows put back for each later test (tests/snapshots.py)
    return snapshots.kept("published", lambda: publish_plan(tmp_path), lambda code: Campaign.objects.get(code=code))
