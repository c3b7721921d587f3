"""The admin shows a document's distribution, the 约谈 with their commitments and the directives for reading:
a superuser opens their lists and pages; nothing is added, changed or deleted there (each changes through
its service), not even by a superuser; a role holder (staff) without their permission is refused. The
matrix (``tests/test_page_matrix.py``, ``ADMIN_MODELS``) tries every view on every persona."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from directives.models import Source
from directives.services import hand_down, register_directive
from documents import distribution
from documents import services as docs
from documents.models import DocumentRecipient, Summons, SummonsCommitment
from tests.conftest import make_user
from tests.web.pages import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(city, published) -> dict[str, object]:
    hq = city["hq"]
    leader = make_user("city_leader", city.units["3303"], (Role.LEADER, city.units["3303"]), name="陈局长")
    d = docs.draft_document(
        by=hq, campaign=published, kind="notice", unit=city.units["3303"], title="关于夜市巡查的通知"
    )
    d = docs.update_draft(document=d, by=hq, requirements="各单位要加强夜市巡查。")
    d = distribution.set_recipients(
        document=d, by=hq, units=[city.units["330310"]], bodies=[("江城市委政法委", "copy")]
    )
    d = docs.check_document(document=docs.submit_document(document=d, by=hq), by=hq)
    d = docs.sign_document(document=d, by=leader)
    directive = register_directive(
        campaign=published, by=hq, title="夜市整治督办", source=Source.MEETING,
        lead_units=[city.units["330310"]], due_date=published.end,
    )  # fmt: skip
    directive = hand_down(directive=directive, by=hq)
    summons = Summons.objects.create(
        campaign=published,
        unit=city.units["330310"],
        bulletin=d,  # standing in for a bulletin: the admin shows the rows as they are
        reasons="完成率靠后",
        as_of=timezone.localdate(),
        scheduled_at=timezone.now() + timedelta(days=3),
        place="二楼会议室",
        attendance="主要负责人",
        created_by=hq,
    )
    commitment = SummonsCommitment.objects.create(
        summons=summons, seq=1, text="一周内完成整改", deadline=published.end, directive=directive
    )
    return {
        "documentrecipient": d.distribution.get(unit__isnull=False),
        "outside": d.distribution.get(unit=None),
        "summons": summons,
        "summonscommitment": commitment,
        "directive": directive,
    }


MODELS = {
    "documentrecipient": "documents",
    "summons": "documents",
    "summonscommitment": "documents",
    "directive": "directives",
}


def superuser() -> Client:
    root = User.objects.create_superuser("root", password="pw-root-admin")
    client = Client()
    client.force_login(root)
    return client


@pytest.mark.parametrize("name", list(MODELS))
def test_a_superuser_reads_them_and_changes_nothing(city, rows, name):
    client, app, row = superuser(), MODELS[name], rows[name]
    listed = client.get(reverse(f"admin:{app}_{name}_changelist"))
    assert listed.status_code == 200
    assert reverse(f"admin:{app}_{name}_change", args=[row.pk]) in listed.content.decode()
    page = client.get(reverse(f"admin:{app}_{name}_change", args=[row.pk]))
    assert page.status_code == 200
    assert not page.context["has_change_permission"] and not page.context["has_delete_permission"]
    assert client.get(reverse(f"admin:{app}_{name}_add")).status_code == 403
    assert client.post(reverse(f"admin:{app}_{name}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse(f"admin:{app}_{name}_change", args=[row.pk]), {}).status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()
    assert client.get(reverse(f"admin:{app}_{name}_history", args=[row.pk])).status_code == 200


def test_the_lists_show_what_matters(city, rows):
    client = superuser()
    recipients = client.get(reverse("admin:documents_documentrecipient_changelist")).content.decode()
    assert "城东分局" in recipients and "江城市委政法委" in recipients  # a unit and an outside body
    waiting = client.get(reverse("admin:documents_documentrecipient_changelist") + "?acknowledged_at__isempty=1")
    assert waiting.status_code == 200 and "城东分局" in waiting.content.decode()
    summons = client.get(reverse("admin:documents_summons_change", args=[rows["summons"].pk])).content.decode()
    assert "一周内完成整改" in summons  # its commitments, inline


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("who", ["hq", "east_lead"])
def test_role_holders_are_refused(city, rows, name, who):
    client, app, row = login(city[who]), MODELS[name], rows[name]
    assert city[who].is_staff  # a role holder reaches the admin, not these pages
    assert client.get(reverse(f"admin:{app}_{name}_changelist")).status_code == 403
    assert client.get(reverse(f"admin:{app}_{name}_change", args=[row.pk])).status_code == 403
    assert client.post(reverse(f"admin:{app}_{name}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    assert DocumentRecipient.objects.filter(pk=rows["outside"].pk).exists()
