"""分解下发 on the assignment page: the lead splits its work among the units under it, sees the shares
under its assignment with their progress, and accepts what a station submits (``workflow.split_reviewable``)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks.models import Assignment, Item
from tasks.services.progress import report_progress
from tasks.services.workflow import transition_assignment
from tests.web.pages import login, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted(published) -> Assignment:
    """城东分局's 2.1 with a count target: at least 100 起, due 2026-10-08."""
    Item.objects.filter(code="2.1").update(target_value=100, target_comparator="ge", target_basis="", target_unit="起")
    return Assignment.objects.get(item__code="2.1", unit__code="330310")


def rows(*shares, keep=False) -> dict:
    """The form's POST: the formset's rows as typed (``(unit, target, due, note)``, blanks as "")."""
    data = {"share-TOTAL_FORMS": str(len(shares)), "share-INITIAL_FORMS": "0", "share-MAX_NUM_FORMS": "100"}
    for i, (unit, target, due, note) in enumerate(shares):
        data |= {f"share-{i}-unit": unit, f"share-{i}-target": target, f"share-{i}-due_date": due}
        data[f"share-{i}-note"] = note
    if keep:
        data["keep_remainder"] = "on"
    return data


EMPTY = ("", "", "2026-10-08", "")  # a row as it comes: the parent's due date, nothing else


def test_the_lead_sees_the_form_others_do_not(city, counted):
    page = login(city["east_lead"]).get(f"/assignments/{counted.pk}/")
    assert page.status_code == 200 and page.context["can_pass_down"]
    body = text(page)
    assert 'id="pass-down-form"' in body and '<option value="33031001">城关派出所</option>' in body
    assert body.count('class="share-row"') == 4 and 'value="2026-10-08"' in body  # the parent's due date
    assert "西山派出所" not in body  # only the units under 城东分局
    # HQ reviews but does not report for the unit; a station has no unit under it
    assert not login(city["hq"]).get(f"/assignments/{counted.pk}/").context["can_pass_down"]
    station = Assignment.objects.get(item__code="1.1", unit__code="33031001")
    assert not login(city["station_lead"]).get(f"/assignments/{station.pk}/").context["can_pass_down"]


def test_split_into_two_shares_shown_under_the_parent(city, counted):
    lead = login(city["east_lead"])
    url = f"/assignments/{counted.pk}/pass-down/"
    done = lead.post(url, rows(("33031001", "60", "2026-09-30", "重点清查城关片区"), ("33031002", "40", "", ""), EMPTY))
    assert done.status_code == 302, text(done)
    shares = {c.unit.code: (c.target_share, c.due_date.isoformat()) for c in counted.children.select_related("unit")}
    assert shares == {"33031001": (Decimal(60), "2026-09-30"), "33031002": (Decimal(40), "2026-10-08")}
    chengguan = counted.children.get(unit__code="33031001")
    assert chengguan.comments.get().text == "重点清查城关片区"  # the note reaches the unit on its page
    report_progress(assignment=chengguan, by=city["station_lead"], value=15, text="", files=[])
    page = lead.get(f"/assignments/{counted.pk}/")
    body = text(page)
    assert f'href="/assignments/{chengguan.pk}/"' in body and "15 / 60 (25%)" in body and "已签收" in body
    assert "remainder" not in page.context or page.context["remainder"] is None
    # the station's page names the unit the share came from, without a link it may not open
    share_page = text(login(city["station_lead"]).get(f"/assignments/{chengguan.pk}/"))
    assert "城东分局" in share_page and f'href="/assignments/{counted.pk}/"' not in share_page


def test_short_shares_ask_for_the_remainder(city, counted):
    lead = login(city["east_lead"])
    url = f"/assignments/{counted.pk}/pass-down/"
    short = lead.post(url, rows(("33031001", "60", "", "")))
    assert short.status_code == 409 and "尚余40" in text(short)
    assert not counted.children.exists()
    kept = lead.post(url, rows(("33031001", "60", "", ""), keep=True))
    assert kept.status_code == 302
    page = lead.get(f"/assignments/{counted.pk}/")
    assert page.context["remainder"] == Decimal(40) and "本单位承担余量：40起" in text(page)


def test_a_refused_share_is_shown_on_its_row(city, counted):
    lead = login(city["east_lead"])
    url = f"/assignments/{counted.pk}/pass-down/"
    late = lead.post(url, rows(("33031001", "50", "", ""), EMPTY, ("33031002", "50", "2026-12-31", "")))
    assert late.status_code == 400
    form = late.context["pass_down_form"]
    assert "晚于上级" in str(form.rows.forms[2].non_field_errors()) and not form.rows.forms[0].errors
    assert not counted.children.exists()
    outside = lead.post(url, rows(("33032001", "50", "", "")))  # 西山派出所: under the other branch
    assert outside.status_code == 400
    assert "33032001" in str(outside.context["pass_down_form"].rows.forms[0].errors["unit"])
    nothing = lead.post(url, rows(EMPTY))
    assert nothing.status_code == 400 and nothing.context["pass_down_form"].non_field_errors()
    twice = lead.post(url, rows(("33031001", "50", "", ""), EMPTY, ("33031001", "50", "", "")))
    assert twice.status_code == 400  # the second row naming the station is the one marked
    form = twice.context["pass_down_form"]
    assert "重复" in str(form.rows.forms[2].non_field_errors()) and not form.rows.forms[0].errors
    assert not counted.children.exists()


def test_no_form_on_accepted_work_and_the_service_refuses(city, counted):
    lead = login(city["east_lead"])
    transition_assignment(assignment=counted, name="submit", by=city["east_lead"], confirm_shortfall=True)
    transition_assignment(assignment=counted, name="accept", by=city["hq"])
    assert not lead.get(f"/assignments/{counted.pk}/").context["can_pass_down"]
    refused = lead.post(f"/assignments/{counted.pk}/pass-down/", rows(("33031001", "100", "", "")))
    assert refused.status_code == 400 and not counted.children.exists()


def test_outsiders_get_nothing(city, counted):
    url = f"/assignments/{counted.pk}/pass-down/"
    assert login(city["west_lead"]).post(url, rows(("33031001", "100", "", ""))).status_code == 404
    assert login(city["station_lead"]).post(url, rows(("33031001", "100", "", ""))).status_code == 404
    assert login(city["hq"]).post(url, rows(("33031001", "100", "", ""))).status_code == 403
    assert not counted.children.exists()


def test_the_lead_accepts_what_its_station_submitted(city, counted):
    lead = login(city["east_lead"])
    lead.post(f"/assignments/{counted.pk}/pass-down/", rows(("33031001", "60", "", ""), ("33031002", "40", "", "")))
    share = counted.children.get(unit__code="33031001")
    report_progress(assignment=share, by=city["station_lead"], value=60, text="", files=[])
    transition_assignment(assignment=share, name="submit", by=city["station_lead"])
    with CaptureQueriesContext(connection) as one:
        mine = lead.get("/my/")
    assert [s.pk for s in mine.context["to_accept"]] == [share.pk] and 'id="to-accept"' in text(mine)
    second = counted.children.get(unit__code="33031002")
    Assignment.objects.filter(pk=second.pk).update(status="submitted")
    with CaptureQueriesContext(connection) as two:  # a second share to accept reads nothing more
        assert len(lead.get("/my/").context["to_accept"]) == 2
    assert len(two) == len(one)
    assert not login(city["station_lead"]).get("/my/").context["to_accept"]  # not its own work
    page = lead.get(f"/assignments/{share.pk}/")
    assert {t.name for t in page.context["transitions"]} == {"accept", "return"}
    accepted = lead.post(f"/assignments/{share.pk}/transition/", {"name": "accept", "version": share.version + 2})
    assert accepted.status_code == 302
    share.refresh_from_db()
    assert share.status == "accepted" and lead.get("/my/").context["to_accept"] == [second]


def test_a_split_is_still_one_piece_of_work_on_the_battle_board(city, counted):
    from boards.queries import battle_board

    hq, root = city["hq"], city.units["3303"]
    before = battle_board(hq, counted.campaign, root).total
    lead = login(city["east_lead"])
    lead.post(f"/assignments/{counted.pk}/pass-down/", rows(("33031001", "60", "", ""), ("33031002", "40", "", "")))
    share = counted.children.get(unit__code="33031001")
    report_progress(assignment=share, by=city["station_lead"], value=60, text="", files=[])
    transition_assignment(assignment=share, name="submit", by=city["station_lead"])
    transition_assignment(assignment=share, name="accept", by=city["east_lead"])
    after = battle_board(hq, counted.campaign, root).total
    assert (after.total, after.done) == (before.total, before.done)  # two shares, no more work, none done
    assert Assignment.objects.filter(campaign=counted.campaign, is_active=True).count() == before.total + 2
