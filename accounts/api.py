"""REST endpoints for units and users, read-only and scoped by ``accounts.scope``; the caller's API tokens."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from ops.openapi import refusal
from utilities.params import ScopedFilterSet

from . import scope, services, tokens
from .models import Unit, UnitKind, User


def once_per_request(context: dict, key: str, choices) -> dict[str, str]:
    """The translated words of ``choices`` (Django ``TextChoices``), built once per request and kept in
    the serializer context. The class is passed, not its ``.choices``: that property builds a new list
    of (value, label) pairs on every read, which per row was a tenth of a lead's list."""
    labels = context.get(key)
    if labels is None:
        labels = context[key] = {k: str(v) for k, v in choices.choices}
    return labels


def unit_row(unit: Unit, kinds: dict[str, str]) -> dict:
    """A unit as ``UnitSerializer`` writes it, ``kinds`` the words of ``once_per_request``: the rows of a
    list call this, not a serializer made per row."""
    return {
        "id": unit.id,
        "code": unit.code,
        "name": unit.name,
        "short_name": unit.short_name,
        "kind": unit.kind,
        "kind_display": kinds.get(unit.kind, unit.kind),
        "depth": unit.depth,
        "is_active": unit.is_active,
    }


class UnitSerializer(serializers.ModelSerializer):
    kind_display = serializers.SerializerMethodField()

    def get_kind_display(self, obj) -> str:
        return once_per_request(self.context, "_kind_labels", UnitKind).get(obj.kind, obj.kind)

    def to_representation(self, obj):
        # By hand: DRF's generic loop costs more than the rest of a list request. The fields are
        # those of ``Meta.fields``, in that order (tests compare it with the generic one).
        return unit_row(obj, once_per_request(self.context, "_kind_labels", UnitKind))

    class Meta:
        model = Unit
        fields = ["id", "code", "name", "short_name", "kind", "kind_display", "depth", "is_active"]


def under(queryset, code: str):
    """``queryset`` narrowed to the rows of the unit with ``code`` and everything under it, reached
    through the model's ``scope_via`` (nothing if unknown)."""
    root = Unit.objects.filter(code=code).first()
    via = scope.path_to_unit(queryset.model)
    prefix = f"{via}__" if via else ""
    return queryset.filter(**{f"{prefix}path__startswith": root.path}) if root else queryset.none()


SUBTREE = "单位编码：该单位及其全部下级"
MINE = "只看本单位"


class UnitRowsFilter(ScopedFilterSet):
    """The base of the filters of a list whose rows belong to a unit (their ``scope_via``): a filter declared
    with ``method="filter_unit"`` narrows to a unit's subtree by code (``under``), ``"filter_mine"`` to the
    caller's own unit (or, false, the others), ``"filter_overdue"`` to the model's ``overdue_q()`` (or not)."""

    def filter_unit(self, queryset, name, value):
        return under(queryset, value)

    def filter_mine(self, queryset, name, value):
        return queryset.mine(self.request.user, value)

    def filter_overdue(self, queryset, name, value):
        late = queryset.model.overdue_q()
        return queryset.filter(late) if value else queryset.exclude(late)


class UnitFilter(ScopedFilterSet):
    under = filters.CharFilter(method="filter_under", label="单位编码：该单位及其全部下级")
    kind = filters.CharFilter()

    def filter_under(self, queryset, name, value):
        return under(queryset, value)

    class Meta:
        model = Unit
        fields = ["under", "kind", "is_active"]


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    search_fields = ["name", "code", "short_name"]

    def get_queryset(self):
        return scope.units(self.request.user).order_by("path")


class UserSerializer(serializers.ModelSerializer):
    unit = UnitSerializer(read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name", "title", "unit", "roles"]

    def get_roles(self, obj: User) -> list[dict]:
        return [{"role": g.role, "unit": g.unit.code} for g in obj.grants.all()]


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = UserSerializer
    search_fields = ["username", "name"]

    def get_queryset(self):
        qs = User.objects.filter(is_active=True).select_related("unit").prefetch_related("grants__unit")
        return scope.restrict(qs, self.request.user).order_by("unit__path", "username")


@extend_schema_view(
    post=extend_schema(
        responses={
            200: inline_serializer(
                "AuthToken", {"token": serializers.CharField(), "expires": serializers.DateTimeField()}
            ),
            429: refusal(429, "Too many wrong passwords for this user from this address: locked for a while"),
        }
    )
)
class TokenView(ObtainAuthToken):
    """POST user name and password for an API token, behind the same sign-in lock as the pages. The
    token is the user's live one, or a new one once it has expired (``API_TOKEN_TTL_HOURS``).

    django-axes marks the request it was given; under DRF that is this view's request, which the
    axes middleware never sees, so the lock-out answer (429) is given here."""

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except ValidationError:
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": "连续输错密码次数过多，此用户在本机的登录已暂停，请稍后再试。"}, status=429)
            raise
        token = services.issue_token(user=serializer.validated_data["user"])
        return Response({"token": token.key, "expires": ExpiryField().to_representation(tokens.expires(token))})


class ExpiryField(serializers.DateTimeField):
    """When a token stops working, in the server's time zone like every other date of the API."""

    def get_attribute(self, token):
        return tokens.expires(token)


class OwnTokenSerializer(serializers.Serializer):
    """One of the caller's tokens, without its secret: the first characters tell which it is."""

    prefix = serializers.SerializerMethodField()
    created = serializers.DateTimeField()
    expires = ExpiryField(read_only=True)
    expired = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField(help_text="the token this request was made with")

    def get_prefix(self, token) -> str:
        return token.key[:6]

    def get_expired(self, token) -> bool:
        return tokens.is_expired(token)

    def get_current(self, token) -> bool:
        return getattr(self.context["request"].auth, "pk", None) == token.pk


class OwnTokensView(generics.GenericAPIView):
    """The caller's own API tokens: see them (GET), or revoke them all (DELETE, audited)."""

    serializer_class = OwnTokenSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return Token.objects.filter(user=self.request.user).order_by("created")

    @extend_schema(responses=OwnTokenSerializer(many=True))
    def get(self, request):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    @extend_schema(responses={204: None})
    def delete(self, request):
        services.revoke_tokens(user=request.user, by=request.user, reason="revoked_by_owner", source="api")
        return Response(status=204)
