"""The sign-off rules page (核稿、签发人, issue 22.2): a campaign's rules, who checks and signs each kind of
document; HQ over the campaign's owner adds and removes them (``documents.rules``)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import scope
from accounts.models import Role, User
from accounts.scope import Action
from documents import rules
from documents.models import DocumentKind, SignOffStep
from tasks.queries import campaigns_for
from utilities.params import IdField

from .pages import submit


class RuleForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of document"), choices=DocumentKind.choices)
    step = forms.ChoiceField(label=gettext_lazy("Sign-off step"), choices=SignOffStep.choices)
    username = forms.CharField(label=gettext_lazy("User name"), required=False, max_length=150)
    role = forms.ChoiceField(label=gettext_lazy("or a role"), choices=[("", "—"), *Role.choices], required=False)


class CampaignQuery(forms.Form):
    campaign = IdField()


def _campaign(request: HttpRequest):
    if not scope.scope_for(request.user, Action.VIEW):
        raise PermissionDenied
    query = CampaignQuery(request.GET)
    if not query.is_valid():
        raise Http404
    return get_object_or_404(campaigns_for(request.user).select_related("owner"), pk=query.cleaned_data["campaign"])


def _page(request, campaign, status: int = 200, form=None):
    context = {
        "campaign": campaign,
        "rules": rules.rules_for(request.user, campaign),
        "may_edit": rules.may_edit(request.user, campaign),
        "form": form or RuleForm(),
    }
    return render(request, "documents/rules.html", context, status=status)


@login_required
def document_rules(request: HttpRequest) -> HttpResponse:
    """GET: the campaign's rules; POST: a rule added."""
    campaign = _campaign(request)
    if request.method != "POST":
        return _page(request, campaign)
    here = reverse("web:documents-rules") + f"?campaign={campaign.pk}"

    def call(data):
        rules._refuse(request.user, campaign)  # before naming anyone
        user = None
        if data["username"]:
            user = scope.restrict(User.objects.all(), request.user).filter(username=data["username"]).first()
            if user is None:
                raise rules.RuleError("没有这个用户")
        rules.add_rule(
            by=request.user, campaign=campaign, kind=data["kind"], step=data["step"], user=user, role=data["role"]
        )
        return _("Rule added."), here

    page = lambda status, **bound: _page(request, campaign, status, **bound)  # noqa: E731
    return submit(request, RuleForm(request.POST), call, page=page, key="form")


@login_required
@require_POST
def document_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(rules.rules_for(request.user), pk=pk)
    campaign = rule.campaign

    def call(data):
        rules.remove_rule(by=request.user, rule=rule)
        return _("Rule removed."), reverse("web:documents-rules") + f"?campaign={campaign.pk}"

    page = lambda status, **bound: _page(request, campaign, status)  # noqa: E731
    return submit(request, forms.Form(request.POST), call, page=page, key="form")
