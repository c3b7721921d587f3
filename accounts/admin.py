import copy
from functools import partial

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from utilities.adminkit import AuditedAdminMixin, ManagedChoicesMixin, ScopedAdminMixin

from . import scope, services, tokens
from .models import RoleGrant, Unit, User

CHILD_POSITIONS = ("first-child", "last-child", "sorted-child", "child")
OUT_OF_PLACE = "只能把单位放在您负责的单位之下"


def _pk(value) -> int | None:
    return int(value) if str(value or "").isdigit() else None


def _new_parent(ref: Unit | None, position: str) -> Unit | None:
    """Where a unit placed ``position`` of ``ref`` ends up: under ``ref``, or beside it."""
    if ref is None:
        return None  # a root
    return ref if position in CHILD_POSITIONS else Unit.objects.get_parent(ref)


def _placed_in_scope(form_class, user):
    """The unit form of someone who is not a superuser: it places a unit only under a unit the user is
    HQ over, and lists only those (not the whole tree: the other branches' units are not its business)."""
    managed = scope.units(user, scope.Action.MANAGE)

    class PlacedInScope(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            parent = Unit.objects.get_parent(self.instance) if self.instance.pk else None
            field = self.fields["treebeard_ref_node"]
            field.queryset = Unit.objects.filter(Q(pk__in=managed.values("pk")) | Q(pk=getattr(parent, "pk", None)))
            field.required, field.empty_label = not self.instance.pk, None
            if parent is not None:  # "first child of its parent": names no sibling, moves nothing unless changed
                self.initial.update(treebeard_ref_node=parent.pk, treebeard_position="first-child")

        def clean(self):
            data = super().clean()
            moved = {"treebeard_ref_node", "treebeard_position"} & set(self.changed_data)
            if self.instance.pk and not moved:
                return data
            parent = _new_parent(data.get("treebeard_ref_node"), data.get("treebeard_position", ""))
            if parent is None or not scope.can(user, scope.Action.MANAGE, parent):
                raise forms.ValidationError(OUT_OF_PLACE)
            return data

    return PlacedInScope


@admin.register(Unit)
class UnitAdmin(AuditedAdminMixin, ScopedAdminMixin, TreeAdmin):
    form = movenodeform_factory(Unit, exclude=["path", "depth", "numchild"])
    list_display = ["name", "code", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code", "short_name"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return form if request.user.is_superuser else _placed_in_scope(form, request.user)

    def move_node(self, request):
        """Drag and drop in the tree: HQ over the unit moved (``has_change_permission``) and over the
        unit it lands under (moving a branch under one's own would widen one's scope)."""
        target = Unit.objects.filter(pk=_pk(request.POST.get("target"))).first()
        position = "child" if request.POST.get("relation") == "child" else "sibling"
        if target is not None and not request.user.is_superuser:
            parent = _new_parent(target, position)
            if parent is None or not scope.can(request.user, scope.Action.MANAGE, parent):
                raise PermissionDenied
        return super().move_node(request)

    def children_view(self, request, parent_id):
        """The children of a unit in scope (treebeard looks the parent up unscoped: a unit of another
        branch would answer with an empty list instead of "missing")."""
        if not self.get_queryset(request).filter(pk=_pk(parent_id)).exists():
            raise Http404
        return super().children_view(request, parent_id)


class PasswordForm(AdminPasswordChangeForm):
    """The admin's password form for ``by``: the new password (or none) is set by the service."""

    def __init__(self, user, *args, by: User, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.by = by

    def save(self, commit=True):
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        return services.change_password(user=self.user, password=password, by=self.by, source="admin")


class RoleGrantInline(ManagedChoicesMixin, admin.TabularInline):
    model = RoleGrant
    extra = 1
    autocomplete_fields = ["unit"]


@admin.register(User)
class UserAdmin(AuditedAdminMixin, ScopedAdminMixin, BaseUserAdmin):
    list_display = ["username", "name", "unit", "title", "roles", "is_active", "last_login"]
    list_filter = ["grants__role", "is_active", "is_staff", "unit__kind"]
    search_fields = ["username", "name", "unit__name", "phone"]
    autocomplete_fields = ["unit"]
    inlines = [RoleGrantInline]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Person"), {"fields": ["name", "unit", "title", "phone", "email"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"fields": ["username", "name", "unit", "password1", "password2"]})]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit").prefetch_related("grants__unit")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and "is_active" in form.changed_data and not obj.is_active:
                services.revoke_tokens(user=obj, by=request.user, reason="deactivated", source="admin")

    def user_change_password(self, request, id, form_url=""):
        """Django's page, with a form that saves through ``accounts.services.change_password`` (audited,
        the user's API tokens revoked) on behalf of whoever is signed in."""
        page = copy.copy(self)  # the admin is shared by every request: the form is this one's
        page.change_password_form = partial(PasswordForm, by=request.user)
        with transaction.atomic():
            return BaseUserAdmin.user_change_password(page, request, id, form_url)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # admin access follows the role grants (accounts.services.grant_role); only a superuser
            # makes superusers or hands out groups beside them
            fields += ["is_staff", "is_superuser", "groups"]
        return fields

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return "；".join(f"{g.get_role_display()}@{g.unit.name}" for g in obj.grants.all())

    def save_formset(self, request, form, formset, change):
        """The role grants of the inline go through ``grant_role`` / ``revoke_role`` (the admin group,
        the audit event, the scope cache), never a plain save; a grant changed is one revoked and one granted."""
        if formset.model is not RoleGrant:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline in formset.deleted_forms:
            if inline.instance.pk:
                services.revoke_role(grant=inline.instance, by=request.user, source="admin")
                formset.deleted_objects.append(inline.instance)
        for inline in formset.forms:
            if inline in formset.deleted_forms or not inline.has_changed():
                continue
            data = inline.cleaned_data
            grant = _regrant(inline.instance, request.user, user=form.instance, role=data["role"], unit=data["unit"])
            if inline.instance.pk:
                formset.changed_objects.append((grant, inline.changed_data))
            else:
                formset.new_objects.append(grant)


def _regrant(old: RoleGrant, by: User, *, user: User, role: str, unit: Unit) -> RoleGrant:
    """``user`` gets ``role`` over ``unit``, instead of ``old`` when that is a grant already saved."""
    if old.pk:
        services.revoke_role(
            grant=RoleGrant.objects.select_related("user", "unit").get(pk=old.pk), by=by, source="admin"
        )
    return services.grant_role(user=user, role=role, unit=unit, by=by, source="admin")


@admin.register(RoleGrant)
class RoleGrantAdmin(AuditedAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "role", "unit", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__name", "unit__name"]
    autocomplete_fields = ["user", "unit"]
    list_select_related = ["user", "unit"]

    def save_model(self, request, obj, form, change):
        """Granted through ``grant_role``; a grant changed is the old one revoked and the new one granted."""
        with transaction.atomic():
            old = RoleGrant(pk=obj.pk) if change else RoleGrant()
            if change and not form.changed_data:
                return
            grant = _regrant(old, request.user, user=obj.user, role=obj.role, unit=obj.unit)
            obj.pk, obj.created_at = grant.pk, grant.created_at

    def delete_model(self, request, obj):
        services.revoke_role(grant=obj, by=request.user, source="admin")

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for grant in queryset.select_related("user", "unit"):
                services.revoke_role(grant=grant, by=request.user, source="admin")


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(BaseTokenAdmin):
    """DRF's token list (a superuser's), with each token's expiry; deleting one is a revocation, audited."""

    list_display = ["key", "user", "created", "expires"]

    @admin.display(description=_("expires"))
    def expires(self, obj) -> str:
        return formats.date_format(timezone.localtime(tokens.expires(obj)), "DATETIME_FORMAT")

    def delete_model(self, request, obj):
        services.revoke_tokens(user=obj.user, by=request.user, reason="admin", source="admin")
