"""Nothing out of scope shows through a filter, a list or a refusal (issue 15, defect 8).

An id the caller may not see and an id no row has must answer alike, byte for byte: every filter by a
related row of every API list (taken from the lists' filter sets, so a new one is checked too), and the
names of an inspection's team. An inspection visiting units of two branches shows a station lead only its
own unit, and counts only its findings.

The world is the API matrix's (``tests/matrix_support.py``): the station lead 赵关 of 城关派出所 sees
城东分局's branch from its station down; everything of 城西分局 (the XS campaign, its assignments,
inspections, notices, hotspots) is out of its scope. A tour visits 城关派出所 and 西山派出所 (城西分局).
"""

from __future__ import annotations

import re
from functools import partial

import pytest
from django.db.models import Model
from django.test import Client

from accounts.models import User
from documents.models import Document
from inspections.models import Finding, Inspection
from ops.urls import router
from tasks.models import Assignment, Campaign, Item, LineOfAction

from .matrix_support import World, build_world, kept_for_the_module

pytestmark = pytest.mark.django_db

GHOST = 2_000_000_007  # an id no row has
WEST = "33032001"  # 西山派出所, of the other branch


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, tmp_path_factory):
    build = partial(build_world, tmp_path_factory.mktemp("leak-plan"), tmp_path_factory.mktemp("leak-media"))
    with kept_for_the_module(django_db_blocker, build) as made:
        yield made


@pytest.fixture
def world(shared_world, db, settings) -> World:
    settings.MEDIA_ROOT = str(shared_world.media_root)
    return shared_world


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def out_of_scope(w: World, model: type[Model]) -> Model:
    """A row of ``model`` the station lead may not see (of 城西分局, or its campaign XS)."""
    s = w.supervision
    return {
        Campaign: w.campaigns["XS"],
        LineOfAction: LineOfAction.objects.filter(campaign=w.campaigns["XS"]).first(),
        Item: Item.objects.filter(campaign=w.campaigns["XS"]).first(),
        Assignment: w.work[WEST],
        Inspection: s.inspection[WEST],
        Finding: s.finding[WEST],
        type(s.notice[WEST]): s.notice[WEST],
        type(s.hotspot[WEST]): s.hotspot[WEST],
        User: w.people["west_lead"],  # a directive's leader in charge (``?leader=``)
        Document: w.documents["doc_issued"][WEST],  # a summons' bulletin (``/summons/?bulletin=``)
    }[model]


def id_filters() -> list[tuple[str, str, type[Model]]]:
    """(list URL, parameter, the model it names) for every filter of an API list by a related row."""
    found = []
    for prefix, viewset, _basename in router.registry:
        view = viewset()
        view.action = "list"
        for backend in (b() for b in viewset.filter_backends if hasattr(b, "get_filterset_class")):
            if not (getattr(viewset, "filterset_class", None) or getattr(viewset, "filterset_fields", None)):
                continue
            model = (getattr(viewset, "filterset_class", None) or viewset.serializer_class).Meta.model
            filterset = backend.get_filterset_class(view, model.objects.all())
            for name, f in filterset.base_filters.items():
                field = None if f.method else _related_field(model, f.field_name)
                if field is not None:
                    found.append((f"/api/v1/{prefix}/", name, field.related_model))
    return found


def _related_field(model, path: str):
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if not field.is_relation:
            return None
        model = field.related_model
    return field


ID_FILTERS = id_filters()


def test_the_filters_by_a_related_row_are_found():
    names = {(url, name) for url, name, _ in ID_FILTERS}
    for wanted in (
        ("/api/v1/assignments/", "parent"),
        ("/api/v1/findings/", "notice"),
        ("/api/v1/findings/", "hotspot"),
        ("/api/v1/extension-requests/", "assignment"),
        ("/api/v1/inspections/", "campaign"),
    ):
        assert wanted in names


@pytest.mark.parametrize(("url", "name", "model"), ID_FILTERS, ids=[f"{u}?{n}" for u, n, _ in ID_FILTERS])
def test_an_id_out_of_scope_filters_like_one_that_does_not_exist(world, url, name, model):
    lead = client_for(world.people["station_lead"])
    hidden = out_of_scope(world, model)
    answers = [lead.get(url, {name: pk}) for pk in (hidden.pk, GHOST)]
    assert [(a.status_code, a.content) for a in answers[:1]] == [(a.status_code, a.content) for a in answers[1:]]
    assert answers[0].status_code == 200 and answers[0].json()["results"] == []


def tour_row(page: str, inspection: Inspection) -> str:
    """The list row of ``inspection``."""
    rows = re.findall(r"<li>.*?</li>", page, flags=re.S)
    return next(r for r in rows if f"/inspections/{inspection.pk}/" in r)


def test_a_station_lead_sees_its_own_unit_of_a_tour_and_its_findings_only(world):
    """The completed tour visited 城关派出所 and 西山派出所 and found one problem at each."""
    past = world.supervision.past_tour
    assert past.findings.count() == 2
    lead = client_for(world.people["station_lead"])
    row = tour_row(lead.get("/inspections/").content.decode(), past)
    assert "西山派出所" not in row and "城关派出所" in row
    assert "1个问题" in row and "2个问题" not in row
    detail = lead.get(f"/inspections/{past.pk}/").content.decode()
    assert "西山派出所" not in detail
    listed = lead.get("/api/v1/inspections/", {"status": "completed"}).json()["results"]
    assert [i["units"] for i in listed if i["id"] == past.pk] == [["33031001"]]
    # HQ sees both units and both findings
    row = tour_row(client_for(world.people["hq"]).get("/inspections/").content.decode(), past)
    assert "西山派出所" in row and "城关派出所" in row and "2个问题" in row


def test_a_team_member_out_of_scope_is_refused_like_one_that_does_not_exist(world):
    """The west inspector plans an inspection of 西山派出所 with a team: 赵关 (of 城东分局's branch, out of
    its scope) and a name nobody has answer alike."""
    west = client_for(world.people["west_inspector"])
    body = {"campaign": world.campaigns["XJ"].pk, "units": [WEST], "planned_on": "2026-12-20"}
    answers = [
        west.post("/api/v1/inspections/", {**body, "team": [name]}, content_type="application/json")
        for name in ("station_lead", "no_such_user")
    ]
    assert answers[0].status_code == 400, answers[0].content
    assert (answers[0].status_code, answers[0].content) == (answers[1].status_code, answers[1].content)
    assert not Inspection.objects.filter(team=world.people["station_lead"], units__code=WEST).exists()
