"""The assignment workflow: who may do what, refused transitions, history, and concurrent writers."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from audit.models import AuditEvent
from tasks.models import Assignment, AssignmentStatus
from tasks.services.workflow import TransitionError, VersionConflict, allowed_transitions, transition_assignment

S = AssignmentStatus


def get(item, unit):
    return Assignment.objects.select_related("unit", "item").get(item__code=item, unit__code=unit)


@pytest.mark.django_db
def test_station_lead_reports_and_hq_accepts(city, published):
    a = get("1.1", "33031001")  # 城关派出所 leads 1.1
    lead, hq = city["station_lead"], city["hq"]
    assert allowed_transitions(lead, a) == ["start", "submit"]
    assert allowed_transitions(hq, a) == []
    a = transition_assignment(assignment=a, name="start", by=lead)
    a = transition_assignment(assignment=a, name="submit", confirm_shortfall=True, by=lead, note="已完成清查 320 家次")
    assert allowed_transitions(hq, a) == ["accept", "return"]
    a = transition_assignment(assignment=a, name="return", by=hq, note="台账缺少照片")
    a = transition_assignment(assignment=a, name="resume", by=lead)
    a = transition_assignment(assignment=a, name="submit", confirm_shortfall=True, by=lead)
    a = transition_assignment(assignment=a, name="accept", by=hq)
    assert a.status == S.ACCEPTED and a.version == 7
    history = list(
        AuditEvent.objects.filter(object_id=a.pk, verb__startswith="assignment.")
        .order_by("id")
        .values_list("verb", "actor__username", "changes")
    )
    assert [(v, u) for v, u, _ in history] == [
        ("assignment.start", "station_lead"),
        ("assignment.submit", "station_lead"),
        ("assignment.return", "hq"),
        ("assignment.resume", "station_lead"),
        ("assignment.submit", "station_lead"),
        ("assignment.accept", "hq"),
    ]
    assert history[2][2] == {"status": ["submitted", "returned"], "note": "台账缺少照片"}


@pytest.mark.django_db
def test_refused_transition_says_what_is_allowed(city, published):
    a = get("1.1", "33031001")
    with pytest.raises(TransitionError) as exc:
        transition_assignment(assignment=a, name="accept", by=city["hq"])
    assert "当前状态为" in exc.value.message and exc.value.allowed == []
    with pytest.raises(TransitionError) as exc:
        transition_assignment(assignment=a, name="resume", by=city["station_lead"])
    assert exc.value.allowed == ["start", "submit"]
    with pytest.raises(TransitionError, match="未知操作"):
        transition_assignment(assignment=a, name="approve", by=city["hq"])
    transition_assignment(assignment=a, name="submit", confirm_shortfall=True, by=city["station_lead"])
    with pytest.raises(TransitionError, match="理由"):
        transition_assignment(assignment=a, name="return", by=city["hq"], note="  ")
    assert get("1.1", "33031001").status == S.SUBMITTED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "name"),
    [
        ("west_lead", "submit"),  # another branch
        ("east_leader", "submit"),  # leaders read, they do not report
        ("inspector", "submit"),
        ("hq", "submit"),  # HQ reviews, the unit reports
        ("nobody", "start"),
    ],
)
def test_who_may_not_act(city, published, persona, name):
    with pytest.raises(PermissionDenied):
        transition_assignment(assignment=get("1.1", "33031001"), name=name, by=city[persona])


@pytest.mark.django_db
def test_sub_bureau_lead_acts_for_its_stations(city, published):
    a = transition_assignment(
        assignment=get("1.1", "33031002"), name="submit", confirm_shortfall=True, by=city["east_lead"]
    )
    assert a.status == S.SUBMITTED


@pytest.mark.django_db
def test_lead_unit_reviews_a_cooperating_unit(city, published):
    # 1.2: 治安支队 leads, 城东分局 cooperates
    from accounts.models import Role
    from tests.conftest import make_user

    zhian_lead = make_user("zhian", city.units["330302"], (Role.UNIT_LEAD, city.units["330302"]))
    coop = transition_assignment(
        assignment=get("1.2", "330310"), name="submit", confirm_shortfall=True, by=city["east_lead"]
    )
    assert allowed_transitions(zhian_lead, coop) == ["accept", "return"]
    transition_assignment(assignment=coop, name="accept", by=zhian_lead)
    # but not the lead unit's own work, nor anything where it is not the lead
    own = transition_assignment(assignment=get("1.2", "330302"), name="submit", confirm_shortfall=True, by=zhian_lead)
    assert allowed_transitions(zhian_lead, own) == []
    other = transition_assignment(
        assignment=get("2.1", "330310"), name="submit", confirm_shortfall=True, by=city["east_lead"]
    )
    assert allowed_transitions(zhian_lead, other) == []


@pytest.mark.django_db
def test_no_one_accepts_their_own_units_work_whatever_else_they_hold(city, published):
    """城关's lead who is also HQ over 城东分局 submits 城关's work: the HQ grant does not let it accept it,
    return it, or decide its own extension request; 东湖's work (under its HQ grant only) it reviews."""
    from datetime import timedelta

    from accounts.models import Role
    from tasks.services.extensions import decide_extension, request_extension
    from tests.conftest import make_user

    both = make_user(
        "guan_hq", city.units["33031001"], (Role.UNIT_LEAD, city.units["33031001"]), (Role.HQ, city.units["330310"])
    )
    own = transition_assignment(assignment=get("1.1", "33031001"), name="submit", confirm_shortfall=True, by=both)
    assert allowed_transitions(both, own) == []
    for name in ("accept", "return"):
        with pytest.raises(PermissionDenied):
            transition_assignment(assignment=own, name=name, by=both, note="自己验收")
    asked = request_extension(assignment=own, by=both, due=own.due_date + timedelta(days=7), reason="雨季")
    with pytest.raises(PermissionDenied):
        decide_extension(request=asked, by=both, approve=True)
    assert get("1.1", "33031001").status == S.SUBMITTED and asked.status == "pending"
    # HQ over 城东分局 still reviews the work of a unit it does not report for
    other = transition_assignment(
        assignment=get("1.1", "33031002"), name="submit", confirm_shortfall=True, by=city["east_lead"]
    )
    assert allowed_transitions(both, other) == ["accept", "return"]
    assert decide_extension(request=asked, by=city["hq"], approve=True).status == "approved"


@pytest.mark.django_db
def test_stale_version_is_refused(city, published):
    a = get("1.1", "33031001")
    transition_assignment(assignment=a, name="start", by=city["station_lead"], expected_version=1)
    with pytest.raises(VersionConflict):
        transition_assignment(
            assignment=a, name="submit", confirm_shortfall=True, by=city["station_lead"], expected_version=1
        )


@pytest.mark.django_db
def test_withdrawn_assignment_cannot_move(city, published):
    a = get("1.1", "33031001")
    Assignment.objects.filter(pk=a.pk).update(is_active=False)
    with pytest.raises(TransitionError, match="撤销"):
        transition_assignment(assignment=a, name="start", by=city["station_lead"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_people_at_once_never_lose_an_update(city, published):
    """The station lead and the sub-bureau lead press "submit" at the same moment: one wins, one is told."""
    a = get("1.1", "33031001")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def press(user):
        try:
            barrier.wait()
            transition_assignment(assignment=a, name="submit", confirm_shortfall=True, by=user, expected_version=1)
            outcomes.append("ok")
        except (TransitionError, VersionConflict) as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(u,)) for u in (city["station_lead"], city["east_lead"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["VersionConflict", "ok"]
    a.refresh_from_db()
    assert a.version == 2 and a.status == S.SUBMITTED
    assert AuditEvent.objects.filter(object_id=a.pk, verb="assignment.submit").count() == 1
