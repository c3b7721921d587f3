"""Turning the unit names a plan writes ("治安支队、各派出所") into units of the tree."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from accounts.models import Unit, UnitKind
from tasks.models import ResponsibilityScope

from .phrases import PhraseError

# "全市各单位", "各单位", "各部门" … : the owner's direct subordinates, which pass the work down.
_ALL_UNITS = re.compile(r"^(全[省市区县局])?(各|所有)(单位|部门|地|级公安机关|县（市、区）局|县市区局)$")
_EACH_KIND = re.compile(r"^(全[省市区县局])?(各|所有)(.+)$")
SCOPE_EXAMPLES = "各分局、各派出所、各支队、各大队、全市各单位"


@dataclass(frozen=True)
class Named:
    scope: str
    unit_id: int | None = None
    kind: str = ""
    label: str = ""  # what the unit is called in the tree, for reports


def _norm(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


class UnitResolver:
    """Resolves names against the owner's subtree, loaded once (one query)."""

    def __init__(self, owner: Unit):
        self.owner = owner
        self.by_key: dict[str, list[tuple[int, str, str]]] = {}
        rows = owner.subtree().values_list("id", "code", "name", "short_name")
        for pk, code, name, short in rows:
            for key in {code, _norm(name), _norm(short)} - {""}:
                self.by_key.setdefault(key, []).append((pk, code, name))
        self.names = sorted({name for entries in self.by_key.values() for _, _, name in entries})
        self.kinds = UnitKind.lookup()

    def resolve(self, token: str) -> Named:
        key = _norm(token)
        found = {pk: (code, name) for pk, code, name in self.by_key.get(key, [])}
        if len(found) == 1:
            pk, (_code, name) = found.popitem()
            return Named(ResponsibilityScope.UNIT, unit_id=pk, label=name)
        if len(found) > 1:
            listing = "、".join(f"{name}（{code}）" for code, name in found.values())
            raise PhraseError(f"单位“{token}”有重名：{listing}，请改写为单位编码")
        if _ALL_UNITS.match(key):
            return Named(ResponsibilityScope.CHILDREN, label=token)
        if match := _EACH_KIND.match(key):
            kind = self.kinds.get(match.group(3))
            if kind:
                return Named(ResponsibilityScope.KIND, kind=kind, label=token)
            raise PhraseError(f"无法识别的范围“{token}”：可写 {SCOPE_EXAMPLES}")
        raise PhraseError(
            f"找不到单位“{token}”{self._suggest(key)}：应为{self.owner.name}所属单位的名称、简称或编码，或 {SCOPE_EXAMPLES}"
        )

    def _suggest(self, key: str) -> str:
        close = difflib.get_close_matches(key, self.names, n=3, cutoff=0.5)
        close += [n for n in self.names if (key in n or n in key) and n not in close][: 3 - len(close)]
        return f"，是否为：{'、'.join(close)}" if close else ""
