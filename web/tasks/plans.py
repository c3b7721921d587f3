"""HQ's plan uploads: the upload form, the preview of its dry run, and the confirmation.

Every page reads through ``accounts.scope`` (out of scope is a 404) and every form posts to a view
that calls one service from ``tasks.services``; a refusal is shown on the page with what was typed
kept, never a 500.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import scope
from accounts.models import Unit, UnitKind
from accounts.scope import Action
from tasks.models import (
    Campaign,
    CampaignStatus,
    PlanUpload,
)
from tasks.services.plan_uploads import UPLOADABLE, confirm_plan, in_background, job_progress, preview_plan
from utilities.params import DateField
from utilities.uploads import download, open_stored

from ..pages import PAGE_SIZE, submit

# --- Plans (HQ) ------------------------------------------------------------------------------------


class PlanUploadForm(forms.Form):
    """A plan for a draft or published campaign HQ manages, or for a new one of one of HQ's units."""

    file = forms.FileField(label=gettext_lazy("Plan file (XLSX, DOCX, CSV, YAML or JSON)"))
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False, label=gettext_lazy("Campaign"))
    name = forms.CharField(required=False, max_length=200, label=gettext_lazy("New campaign's name"))
    code = forms.CharField(required=False, max_length=40, label=gettext_lazy("Code (optional)"))
    start = DateField(required=False, label=gettext_lazy("Start"), widget=forms.DateInput(attrs={"type": "date"}))
    end = DateField(required=False, label=gettext_lazy("End"), widget=forms.DateInput(attrs={"type": "date"}))
    owner = forms.ModelChoiceField(
        queryset=Unit.objects.none(), to_field_name="code", required=False, label=gettext_lazy("Owning HQ")
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = scope.restrict(
            Campaign.objects.filter(status__in=UPLOADABLE), user, Action.MANAGE
        ).order_by("-start", "code")
        # HQ's units: those of its grants and the level below (a sub-bureau's own campaign), not every station
        managed = scope.units(user, Action.MANAGE)
        top = managed.order_by("depth").values_list("depth", flat=True).first() or 0
        self.fields["owner"].queryset = managed.filter(depth__lte=top + 1).order_by("path")

    def clean(self):
        data = super().clean()
        if not data.get("campaign"):
            for key in ("name", "start", "end", "owner"):
                if not data.get(key) and key not in self.errors:
                    self.add_error(key, _("Required for a new campaign."))
        return data


class PlanConfirmForm(forms.Form):
    publish = forms.BooleanField(required=False, label=gettext_lazy("Publish: create every unit's assignments"))


def _hq(request: HttpRequest) -> None:
    if not scope.scope_for(request.user, Action.MANAGE):
        raise PermissionDenied


def _plans_page(request: HttpRequest, status: int = 200, **bound) -> HttpResponse:
    uploads = (
        PlanUpload.objects.visible_to(request.user, Action.MANAGE)
        .select_related("campaign", "owner", "uploaded_by")
        .order_by("-uploaded_at", "-id")[:PAGE_SIZE]
    )
    form = bound.get("form") or PlanUploadForm(request.user)
    return render(request, "tasks/plans.html", {"uploads": uploads, "form": form}, status=status)


@login_required
def plans(request: HttpRequest) -> HttpResponse:
    """HQ's plan uploads: the recent ones of its units, and the form that uploads one for a preview."""
    _hq(request)
    if request.method != "POST":
        return _plans_page(request)

    def preview(data) -> tuple[str, str]:
        upload = preview_plan(
            upload=data["file"],
            by=request.user,
            campaign=data["campaign"],
            name=data["name"].strip(),
            code=data["code"].strip(),
            start=data["start"],
            end=data["end"],
            owner=data["owner"],
            background=in_background(),
        )
        return _("Plan uploaded: check the preview before importing."), reverse("web:tasks-plan", args=[upload.pk])

    form = PlanUploadForm(request.user, request.POST, request.FILES)
    return submit(
        request, form, preview, page=lambda status, **bound: _plans_page(request, status, **bound), key="form"
    )


def _plan_rows(result: dict) -> list[tuple[str, int, int, int]]:
    """(what, created, updated, withdrawn) per kind of row the import touches."""
    kinds = (("campaign", _("Campaign")), ("actions", _("Lines of action")), ("items", _("Items")))
    kinds += (("assignments", _("Assignments")),)
    return [
        (label, *(result.get(k, {}).get(key, 0) for k in ("created", "updated", "withdrawn"))) for key, label in kinds
    ]


def _by_kind(result: dict) -> list[tuple[str, int]]:
    """(unit kind's label, assignments) in the order of the kinds, for the preview's table."""
    counts = result.get("by_unit_kind") or {}
    labels = dict(UnitKind.choices)
    order = {kind: n for n, kind in enumerate(labels)}
    return [(labels.get(k, k), n) for k, n in sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order)))]


def _upload(request: HttpRequest, pk: int) -> PlanUpload:
    _hq(request)
    return get_object_or_404(
        PlanUpload.objects.visible_to(request.user, Action.MANAGE).select_related("campaign", "owner", "uploaded_by"),
        pk=pk,
    )


@login_required
def plan_status(request: HttpRequest, pk: int) -> JsonResponse:
    """The upload's job as the page's progress bar polls it: state, percent, the stage in words."""
    upload = _upload(request, pk)
    progress, message = job_progress(upload)
    return JsonResponse(
        {
            "id": upload.pk,
            "status": upload.status,
            "job": upload.job,
            "state": upload.job_state,
            "pending": upload.is_pending,
            "progress": progress,
            "message": message,
        }
    )


@login_required
def plan_file(request: HttpRequest, pk: int) -> FileResponse:
    """The stored file as it was uploaded (the bytes previewed and imported), as an attachment."""
    upload = _upload(request, pk)
    response = FileResponse(open_stored(upload.file), content_type="application/octet-stream")
    return download(response, upload.name, fallback=f"plan-{upload.pk}{upload.extension}")


@login_required
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    """One upload's preview: the dry run's numbers and changes, every problem located beside the
    cell's text; confirming imports it (and publishes a draft if asked) from the stored file. While its
    job waits or runs, a progress bar that polls ``plan_status`` and reloads the page when it ends."""
    upload = _upload(request, pk)

    def page(status: int = 200, **bound) -> HttpResponse:
        upload.refresh_from_db()
        progress, stage = job_progress(upload)
        context = {
            "upload": upload,
            "progress": progress,
            "stage": stage,
            "by_kind": _by_kind(upload.result),
            "result": upload.result,
            "rows": _plan_rows(upload.result),
            "errors": upload.result.get("errors", []),
            "confirm_form": bound.get("confirm_form") or PlanConfirmForm(),
            "draft": upload.campaign is None or upload.campaign.status == CampaignStatus.DRAFT,
        }
        return render(request, "tasks/plan.html", context, status=status)

    if request.method != "POST":
        return page()

    def confirm(data) -> tuple[str, str]:
        result = confirm_plan(upload=upload, by=request.user, publish=data["publish"], background=in_background())
        if result is None:
            return _("The import runs in the background: this page follows it."), reverse("web:tasks-plan", args=[pk])
        message = _("Plan imported into %(code)s: %(items)d items, %(assignments)d assignments.") % {
            "code": result.campaign,
            "items": result.items,
            "assignments": result.assignments,
        }
        return message, reverse("web:tasks-plan", args=[upload.pk])

    return submit(request, PlanConfirmForm(request.POST), confirm, page=page, key="confirm_form")
