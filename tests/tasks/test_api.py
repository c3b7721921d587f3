"""The REST API: scoped lists and 404s, filters, transitions (single and bulk), auth, schema."""

from datetime import date

import pytest
import time_machine
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Unit, User
from audit.models import AuditEvent
from tasks.models import Assignment, AssignmentStatus

pytestmark = pytest.mark.django_db


def api(user: User | None = None) -> APIClient:
    client = APIClient()
    if user:
        client.force_authenticate(user)
    return client


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def assignment(item: str, unit: str) -> Assignment:
    return Assignment.objects.get(item__code=item, unit__code=unit)


def test_anonymous_is_refused(published):
    assert api().get("/api/v1/assignments/").status_code in (401, 403)


def test_station_lead_lists_only_its_own_units_work(city, published):
    got = ids(api(city["station_lead"]).get("/api/v1/assignments/"))
    assert got == set(Assignment.objects.filter(unit__code="33031001").values_list("id", flat=True))


def test_sub_bureau_sees_its_subtree_and_filters(city, published):
    client = api(city["east_lead"])
    subtree = set(
        Assignment.objects.filter(unit__path__startswith=city.units["330310"].path).values_list("id", flat=True)
    )
    assert ids(client.get("/api/v1/assignments/")) == subtree
    mine = ids(client.get("/api/v1/assignments/?mine=true"))
    assert mine == set(Assignment.objects.filter(unit__code="330310").values_list("id", flat=True))
    station = ids(client.get("/api/v1/assignments/?unit=33031001"))
    assert station == {assignment("1.1", "33031001").id}
    assert ids(client.get("/api/v1/assignments/?unit=33032001")) == set()  # another branch: nothing
    due = ids(client.get("/api/v1/assignments/?due_before=2026-07-31"))
    assert due == {assignment("1.2", "330310").id}


def test_status_and_overdue_filters(city, published):
    client = api(city["hq"])
    Assignment.objects.filter(item__code="1.2").update(status=AssignmentStatus.ACCEPTED)
    with time_machine.travel(date(2026, 8, 1)):
        overdue = ids(client.get("/api/v1/assignments/?overdue=true"))
    # 1.2 was due 7月15日 but is accepted; nothing else is due before August
    assert overdue == set()
    with time_machine.travel(date(2026, 9, 2)):
        overdue = ids(client.get("/api/v1/assignments/?overdue=true"))
    assert overdue == set(Assignment.objects.filter(item__code="1.1").values_list("id", flat=True))
    accepted = ids(client.get("/api/v1/assignments/?status=accepted&status=submitted"))
    assert accepted == set(Assignment.objects.filter(item__code="1.2").values_list("id", flat=True))


@pytest.mark.parametrize(
    ("persona", "path", "code"),
    [
        ("west_lead", "assignments", ("1.1", "33031001")),
        ("station_lead", "assignments", ("1.1", "33031002")),
        ("east_leader", "assignments", ("2.1", "330320")),
        ("nobody", "assignments", ("1.1", "33031001")),
        ("west_lead", "units", "33031001"),
        ("station_lead", "units", "330310"),
    ],
)
def test_out_of_scope_is_404(city, published, persona, path, code):
    pk = assignment(*code).pk if path == "assignments" else Unit.objects.get(code=code).pk
    assert api(city[persona]).get(f"/api/v1/{path}/{pk}/").status_code == 404


def test_users_are_scoped(city, published):
    names = {row["username"] for row in api(city["east_lead"]).get("/api/v1/users/").json()["results"]}
    assert names == {"east_lead", "station_lead", "east_leader", "nobody"}


def test_everyone_in_the_city_sees_its_campaign_but_not_an_outsider(city, published):
    assert len(api(city["station_lead"]).get("/api/v1/campaigns/").json()["results"]) == 1
    assert api(city["nobody"]).get("/api/v1/campaigns/").json()["results"] == []
    assert api(city["station_lead"]).get(f"/api/v1/items/?campaign={published.pk}").json()["count"] == 4


def test_list_query_count_does_not_grow_with_rows(city, published, django_assert_max_num_queries):
    client = api(city["hq"])
    client.get("/api/v1/assignments/")  # warm caches (content types, sessions)
    with django_assert_max_num_queries(6) as few:
        client.get("/api/v1/assignments/?page_size=50")
    Assignment.objects.bulk_create(
        Assignment(campaign=published, item=a.item, unit=u, role="coop", due_date=a.due_date)
        for a in [assignment("2.2", "330302")]
        for u in Unit.objects.exclude(assignments__item=a.item)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/api/v1/assignments/")


class TestTransitions:
    def test_submit_then_accept(self, city, published):
        a = assignment("1.1", "33031001")
        response = api(city["station_lead"]).post(
            f"/api/v1/assignments/{a.pk}/transition/", {"name": "submit", "confirm_shortfall": True}
        )
        assert response.status_code == 200 and response.json()["status"] == "submitted"
        response = api(city["hq"]).get(f"/api/v1/assignments/{a.pk}/")
        assert response.json()["allowed_transitions"] == ["accept", "return"]
        response = api(city["hq"]).post(f"/api/v1/assignments/{a.pk}/transition/", {"name": "accept", "version": 2})
        assert response.status_code == 200 and response.json()["version"] == 3

    def test_invalid_transition_is_400_with_the_allowed_ones(self, city, published):
        a = assignment("1.1", "33031001")
        response = api(city["station_lead"]).post(f"/api/v1/assignments/{a.pk}/transition/", {"name": "resume"})
        assert response.status_code == 400
        assert response.json()["allowed"] == ["start", "submit"] and "当前状态" in response.json()["detail"]
        assert (
            api(city["station_lead"]).post(f"/api/v1/assignments/{a.pk}/transition/", {"name": "x"}).status_code == 400
        )

    def test_wrong_role_is_403_and_stale_version_409(self, city, published):
        a = assignment("1.1", "33031001")
        assert (
            api(city["hq"])
            .post(f"/api/v1/assignments/{a.pk}/transition/", {"name": "submit", "confirm_shortfall": True})
            .status_code
            == 403
        )
        lead = api(city["station_lead"])
        assert lead.post(f"/api/v1/assignments/{a.pk}/transition/", {"name": "start", "version": 1}).status_code == 200
        stale = lead.post(f"/api/v1/assignments/{a.pk}/transition/", {"name": "submit", "version": 1})
        assert stale.status_code == 409 and stale.json()["version"] == 2

    def test_bulk_is_all_or_nothing(self, city, published):
        client = api(city["east_lead"])
        a, b = assignment("1.1", "33031001"), assignment("1.1", "33031002")
        ok = client.post(
            "/api/v1/assignments/bulk-transition/",
            [{"id": a.pk, "name": "start"}, {"id": b.pk, "name": "submit", "confirm_shortfall": True}],
            format="json",
        )
        assert ok.status_code == 200 and [r["status"] for r in ok.json()] == ["in_progress", "submitted"]
        events = AuditEvent.objects.count()
        refused = client.post(
            "/api/v1/assignments/bulk-transition/",
            [
                {"id": a.pk, "name": "submit", "confirm_shortfall": True},
                {"id": b.pk, "name": "submit", "confirm_shortfall": True},  # b is already submitted
            ],
            format="json",
        )
        assert refused.status_code == 400 and refused.json()["index"] == 1
        assert [(r["index"], r["id"]) for r in refused.json()["rows"]] == [(1, b.pk)]
        assert assignment("1.1", "33031001").status == "in_progress"  # the first one was rolled back
        assert AuditEvent.objects.count() == events
        other = assignment("2.1", "330320")
        hidden = client.post("/api/v1/assignments/bulk-transition/", [{"id": other.pk, "name": "start"}], format="json")
        assert hidden.status_code == 404


def test_token_auth(city, published):
    response = APIClient().post("/api/v1/auth/token/", {"username": "station_lead", "password": "pw-station_lead"})
    token = response.json()["token"]
    assert Token.objects.get(key=token).user.username == "station_lead"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/assignments/").status_code == 200


def test_schema_and_its_ui_are_served_locally(city):
    client = api(city["hq"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/assignments/{id}/transition/" in paths and "/api/v1/assignments/bulk-transition/" in paths
    ui = client.get("/api/schema/ui/").content.decode()
    assert "drf_spectacular_sidecar" in ui and "cdn" not in ui.lower()


def test_a_draft_plan_is_hqs_alone_until_published(city, published):
    """A draft (a plan being written, a copy being edited) is seen by HQ over its owner only: the units
    below and the inspectors get 404 and empty lists, as for a campaign that does not exist."""
    from tasks.models import CampaignStatus
    from tasks.services.campaigns import copy_campaign

    draft = copy_campaign(
        source=published, by=city["hq"], name="明年行动", code="NEXT", start=date(2027, 7, 1), end=date(2027, 9, 30)
    )
    assert draft.status == CampaignStatus.DRAFT and draft.items.exists()
    hq = api(city["hq"])
    assert hq.get(f"/api/v1/campaigns/{draft.pk}/").status_code == 200
    assert ids(hq.get("/api/v1/items/", {"campaign": draft.pk})) == set(draft.items.values_list("id", flat=True))
    for who in ("east_lead", "station_lead", "inspector", "east_leader"):
        client = api(city[who])
        assert client.get(f"/api/v1/campaigns/{draft.pk}/").status_code == 404, who
        assert draft.pk not in ids(client.get("/api/v1/campaigns/")), who
        assert ids(client.get("/api/v1/items/", {"campaign": draft.pk})) == set(), who
        assert ids(client.get("/api/v1/actions/", {"campaign": draft.pk})) == set(), who
        assert client.get(f"/api/v1/campaigns/{published.pk}/").status_code == 200, who  # the published one stays
