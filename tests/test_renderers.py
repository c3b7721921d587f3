"""The API's JSON written by orjson (``utilities.renderers``): the bytes DRF's own renderer writes, for
every kind of value the API answers with; DRF's renderer where orjson would differ or refuse."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import OrderedDict, namedtuple
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import models
from django.forms.utils import ErrorDict, ErrorList
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override
from rest_framework import renderers
from rest_framework.exceptions import ErrorDetail
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from tasks.models import AssignmentStatus
from utilities.renderers import JSONRenderer

pytestmark = pytest.mark.smoke

SHANGHAI = ZoneInfo("Asia/Shanghai")
Pair = namedtuple("Pair", "n text")


class Weekday(models.IntegerChoices):
    MON = 1, "周一"


VALUES = {
    "text": "城关派出所 “专项行动” 第（一）项 — ①②③ 𠮷",
    "controls": 'a\x00b\x01\tc\nd"e\\f\x7f',
    "separators": "line\u2028para\u2029end",
    "formula": '=HYPERLINK("http://x")',
    "numbers": [0, -1, 2**53, 2**63 - 1, -(2**63), 1.5, 0.1, 123456789.125, 1e300],
    "decimals": [Decimal("0"), Decimal("12.50"), Decimal("-0.001"), Decimal("1E+3"), Decimal("99999999999999.99")],
    "dates": [dt.date(2026, 12, 6), dt.date(9999, 12, 31), dt.date(1, 1, 1)],
    "datetimes": [
        dt.datetime(2026, 12, 6, 8, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 6, 8, 30, 15, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 6, 16, 30, 15, 999999, tzinfo=SHANGHAI),
        dt.datetime(2026, 12, 6, 16, 30),
    ],
    "times": [dt.time(9, 0), dt.time(17, 30, 5, 250000)],
    "durations": [dt.timedelta(hours=36, seconds=5)],
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "choices": [AssignmentStatus.IN_PROGRESS],
    "empties": [None, True, False, [], {}, ""],
    "nested": {"a": [{"b": {"c": [1, {"d": None}]}}]},
    "bytes": b"raw",
    "tuple": (1, "二"),
    "set": {3},
    "form_errors": ErrorDict(start=ErrorList(["Enter a date between 2000-01-01 and 2099-12-31."])),
    "error_list": ErrorList([ErrorDetail("无效", code="invalid")]),
    "drf_answers": ReturnDict({"a": ReturnList([1, 2], serializer=None)}, serializer=None),
    "ordered": OrderedDict(b=1, a=2),
    "int_choice": Weekday.MON,
    "named_tuple": Pair(1, "二"),
    "safe": mark_safe("<b>粗</b>"),
}


def _drf(data, media_type=None, context=None) -> bytes:
    return renderers.JSONRenderer().render(data, media_type, context)


@pytest.mark.parametrize("name", sorted(VALUES))
def test_every_kind_of_value_is_written_as_drf_writes_it(name):
    data = {name: VALUES[name], "n": 1}
    assert JSONRenderer().render(data) == _drf(data)


def test_a_float_in_an_exponent_is_the_same_number_spelled_shorter():
    data = {"f": [1e-7, 1e16, 2.5e-300]}
    ours = JSONRenderer().render(data)
    assert json.loads(ours) == json.loads(_drf(data)) == data
    assert ours == b'{"f":[1e-7,1e+16,2.5e-300]}'  # DRF: 1e-07


def test_lazy_text_is_written_in_the_active_language():
    data = {"detail": gettext_lazy("Invalid token."), 7: "an integer key", None: "none"}
    with override("en"):
        ours, drf = JSONRenderer().render(data), _drf(data)
    assert ours == drf == b'{"detail":"Invalid token.","7":"an integer key","null":"none"}'


def test_u2028_and_u2029_are_escaped_as_drf_escapes_them():
    written = JSONRenderer().render({"t": "a\u2028b\u2029c"})
    assert b"\\u2028" in written and b"\\u2029" in written and "\u2028".encode() not in written


def test_what_orjson_refuses_or_would_pretty_print_is_drfs():
    huge = {"n": 2**70, "m": -(2**64)}  # past 64 bits
    assert JSONRenderer().render(huge) == _drf(huge) == b'{"n":1180591620717411303424,"m":-18446744073709551616}'
    data = {"a": [1, 2]}
    assert JSONRenderer().render(data, "application/json; indent=2") == _drf(data, "application/json; indent=2")
    assert b"\n" in JSONRenderer().render(data, None, {"indent": 4})
    assert JSONRenderer().render(None) == b""


def test_a_float_that_is_not_a_number_is_null_not_a_refusal():
    with pytest.raises(ValueError, match="JSON compliant"):
        _drf({"x": float("nan")})
    assert json.loads(JSONRenderer().render({"x": float("nan")})) == {"x": None}


def test_the_api_answers_through_it():
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_RENDERER_CLASSES[0] is JSONRenderer


def test_a_renderer_told_not_to_be_compact_writes_as_drf_does():
    class Loose(JSONRenderer):
        compact = False

    class DrfLoose(renderers.JSONRenderer):
        compact = False

    data = {"a": [1, "二"], "b": None}
    assert Loose().render(data) == DrfLoose().render(data) == '{"a": [1, "二"], "b": null}'.encode()
