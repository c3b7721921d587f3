from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from utilities.models import FastLoad

if TYPE_CHECKING:
    from .scope import Action


class ScopedQuerySet(models.QuerySet):
    """The rows of a model that declares how it reaches the unit that scopes it (``scope_via``: "" for
    Unit itself, "unit", "assignment__unit", …), narrowed the one way ``accounts.scope`` decides.

    Every scoped model's manager is built from it, so a list starts from
    ``Model.objects.visible_to(user, action)`` and never spells its path (cf. NetBox's
    ``RestrictedQuerySet.restrict``). It lives here, not in ``scope``, because ``scope`` imports the models.
    """

    def visible_to(self, user, action: "Action | str" = "view") -> "ScopedQuerySet":
        """These rows narrowed to those ``user`` may act on for ``action`` (by default ``Action.VIEW``)."""
        from . import scope

        return scope.restrict(self, user, action)

    def mine(self, user, wanted: bool = True) -> "ScopedQuerySet":
        """The "mine" filter of the lists: the rows of ``user``'s own unit, or (``wanted`` false) the others."""
        from . import scope

        own = models.Q(**{scope.path_to_unit(self.model) or "pk": user.unit_id})
        return self.filter(own) if wanted else self.exclude(own)


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("Provincial department")  # 省厅
    CITY = "city", _("City bureau")  # 市局
    SUBBUREAU = "subbureau", _("Sub-bureau")  # 分局 / 县局
    DETACHMENT = "detachment", _("Detachment")  # 支队
    BRIGADE = "brigade", _("Brigade")  # 大队
    STATION = "station", _("Police station")  # 派出所
    CENTER = "center", _("Centre")  # 中心
    OFFICE = "office", _("Office")  # 科室 / 办公室
    OTHER = "other", _("Other")

    @classmethod
    def lookup(cls) -> dict[str, str]:
        """Every way an office writes a kind -> its value (Chinese words, English labels, values)."""
        words = {
            "省厅": cls.PROVINCE,
            "省公安厅": cls.PROVINCE,
            "公安厅": cls.PROVINCE,
            "市局": cls.CITY,
            "市公安局": cls.CITY,
            "公安局": cls.CITY,
            "分局": cls.SUBBUREAU,
            "县局": cls.SUBBUREAU,
            "县公安局": cls.SUBBUREAU,
            "区分局": cls.SUBBUREAU,
            "县（市、区）局": cls.SUBBUREAU,
            "支队": cls.DETACHMENT,
            "大队": cls.BRIGADE,
            "派出所": cls.STATION,
            "所": cls.STATION,
            "中心": cls.CENTER,
            "科室": cls.OFFICE,
            "办公室": cls.OFFICE,
            "处室": cls.OFFICE,
            "其他": cls.OTHER,
        }
        for choice in cls:
            words[choice.value] = choice
            words[str(choice.label).lower()] = choice
        return {key: str(value) for key, value in words.items()}


class UnitQuerySet(ScopedQuerySet, MP_NodeQuerySet):
    pass


class UnitManager(MP_NodeManager.from_queryset(UnitQuerySet)):
    def get_queryset(self) -> UnitQuerySet:
        """treebeard's queryset, ordered by path as treebeard orders it, that also knows the scope."""
        return UnitQuerySet(self.model, using=self._db).order_by("path")


class Unit(FastLoad, MP_Node):
    """A unit of the police hierarchy: provincial HQ, city bureau, sub-bureau, detachment, station.

    The tree is a materialised path (django-treebeard): every unit's ``path`` starts with its
    ancestors' paths, so "all units under X" is one indexed ``path LIKE 'X%'`` query.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    doc_prefix = models.CharField(
        _("document prefix"),
        max_length=20,
        blank=True,
        help_text=_("发文代字 of the unit's supervision notices, e.g. 江公督 → 江公督〔2026〕71号"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices, default=UnitKind.OTHER)
    is_active = models.BooleanField(_("active"), default=True)

    node_order_by: list[str] = []
    scope_via = ""  # a unit is in scope itself

    objects = UnitManager()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        indexes = [models.Index(fields=["kind", "path"])]

    def __str__(self) -> str:
        return self.name

    def subtree(self, include_self: bool = True) -> models.QuerySet["Unit"]:
        qs = Unit.objects.filter(path__startswith=self.path)
        return qs if include_self else qs.exclude(pk=self.pk)


class User(FastLoad, AbstractUser):
    """A person using the system; belongs to one unit and holds roles scoped to unit subtrees."""

    name = models.CharField(_("full name"), max_length=50, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    title = models.CharField(_("title"), max_length=50, blank=True, help_text=_("Position, e.g. deputy director"))
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    # scoped by its unit; no ``visible_to`` (``scope.restrict`` reads ``scope_via``): the manager
    # stays Django's own, which the migrations name
    scope_via = "unit"

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.name or self.username

    def get_full_name(self) -> str:
        return self.name or super().get_full_name()


class Role(models.TextChoices):
    HQ = "hq", _("Headquarters office")
    UNIT_LEAD = "unit_lead", _("Unit lead")
    INSPECTOR = "inspector", _("Inspector")
    LEADER = "leader", _("Leader")


class RoleGrant(FastLoad, models.Model):
    """A role a user holds over one unit and everything under it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="grants", verbose_name=_("scope"))
    created_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    scope_via = "unit"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [models.UniqueConstraint(fields=["user", "role", "unit"], name="uniq_role_grant")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"
