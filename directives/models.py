"""Directives (督办事项) and listed major cases (挂牌督办案件): work handed down outside the plan.

A directive owns one ``tasks.Item`` (kind directive) whose assignments are the units' work, so 签收,
feedback, completion, review, extensions, 催办 and reminders are the assignments' own
(``docs/directives.md``). What is the directive's alone — where it came from, the instruction's words,
the leader in charge, the case, the rating — is here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import ScopedQuerySet
from tasks.models import Item


class Source(models.TextChoices):
    INSTRUCTION = "instruction", _("Leader's instruction")  # 领导批示
    MEETING = "meeting", _("Meeting decision")  # 会议决定
    SUPERIOR = "superior", _("Referred by a superior")  # 上级交办
    REPORT = "report", _("Public report")  # 群众举报
    CASE = "case", _("Listed case")  # 挂牌案件
    RISK = "risk", _("Risk alert")  # 风险提示


class Level(models.TextChoices):
    NONE = "", _("Not listed")
    CITY = "city", _("Listed by the city bureau")  # 市级挂牌
    BRANCH = "branch", _("Listed by the sub-bureau")  # 分局级挂牌


class Status(models.TextChoices):
    REGISTERED = "registered", _("Registered")  # 立项
    HANDED_DOWN = "handed_down", _("Handed down")  # 交办
    CLOSED = "closed", pgettext_lazy("directive", "Closed")  # 销号


class Outcome(models.TextChoices):
    NONE = "", _("Not yet")
    SOLVED = "solved", _("Solved")  # 破案
    ARRESTED = "arrested", _("Suspects arrested")  # 抓获
    PROSECUTED = "prosecuted", _("Prosecuted")  # 起诉


class Rating(models.TextChoices):
    NONE = "", _("Not rated")
    SATISFIED = "satisfied", _("Satisfied")  # 满意
    FAIR = "fair", _("Fairly satisfied")  # 基本满意
    UNSATISFIED = "unsatisfied", _("Not satisfied")  # 不满意


class DirectiveQuerySet(ScopedQuerySet):
    def visible_to(self, user, action="view") -> DirectiveQuerySet:
        """The directives ``user`` sees: over the campaign's owner (``action``), or through one of its
        assignments the user sees for ``action`` (the assignments' scope, whose secret rule holds here
        too). The owner's side sees a secret directive only as HQ (``manage``)."""
        from accounts import scope
        from tasks.models import Assignment

        reach = scope.scope_for(user, action)
        if not reach:
            return self.none()
        if reach.everything:
            return self.all()
        seen = scope.restrict(Assignment.objects.filter(item_id=models.OuterRef("item_id")), user, action)
        owner = reach.q("item__campaign__owner") & models.Q(item__secret=False)
        manage = scope.scope_for(user, scope.Action.MANAGE)
        if manage:
            owner |= manage.q("item__campaign__owner")
        return self.filter(owner | models.Exists(seen))


class Directive(models.Model):
    """A piece of work HQ hands down outside the plan (督办事项): a leader's instruction, a meeting's
    decision, a referral, a report, a risk alert or a listed major case (挂牌督办, with a leader in charge
    and a solve-by date). Its units' work is the assignments of its ``item``."""

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="directive", verbose_name=_("item"))
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    text = models.TextField(_("what is to be done"), blank=True)
    instruction = models.TextField(_("the instruction's words"), blank=True)
    instructed_by = models.CharField(_("instructed by"), max_length=100, blank=True)
    instructed_on = models.DateField(_("instructed on"), null=True, blank=True)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices, blank=True, default="")
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leader in charge"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="directives_led",
    )
    leader_name = models.CharField(_("leader in charge (as written)"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED)
    # a listed major case (挂牌督办案件); its solve-by date (限期侦破) is the item's due date
    is_case = models.BooleanField(_("major case"), default=False)
    case_no = models.CharField(_("case number"), max_length=60, blank=True)
    case_type = models.CharField(_("case type"), max_length=60, blank=True)
    crime_date = models.DateField(_("date of the crime"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True, default="")
    outcome_on = models.DateField(_("outcome date"), null=True, blank=True)
    rating = models.CharField(_("rating"), max_length=12, choices=Rating.choices, blank=True, default="")
    rating_note = models.TextField(_("rating note"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    scope_via = "item__campaign__owner"  # HQ's rights (manage) are over the campaign's owner

    objects = DirectiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("directive")
        verbose_name_plural = _("directives")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["leader", "status"]),
            # the desk's order: its first page read off the index rather than every directive sorted
            models.Index(fields=["-created_at", "-id"], name="directive_desk_order"),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} {self.item.title[:40]}"

    @property
    def title(self) -> str:
        return self.item.title

    @property
    def secret(self) -> bool:
        return self.item.secret
