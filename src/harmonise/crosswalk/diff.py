"""What changed between two crosswalk versions, in words a reviewer can check.

``diff_crosswalks(a, b)`` compares two models item by item (matched by ``id``): items added
or removed; per item, recode and missing entries added, removed or re-targeted (keys
matched as the recoder matches them, so ``1`` and ``1.0`` are the same key), grades
raised or lowered, notes, concepts, sources, scales, options and question texts changed;
and every header field that changed (population, mode, sampling, design, weighting …).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from harmonise.models.crosswalk import Crosswalk, Item, normalise_value
from harmonise.models.schema import GRADES

#: Item fields compared one by one (recode, missing and comparability have their own words).
_ITEM_FIELDS = ("concept", "option", "source", "question", "scale", "note")


@dataclass(frozen=True)
class Change:
    """One difference. ``kind`` is stable (``item-added``, ``recode-changed`` …)."""

    kind: str
    text: str
    item: str = ""
    field: str = ""
    key: str = ""
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class CrosswalkDiff:
    a: str
    b: str
    changes: tuple[Change, ...]

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.changes:
            out[c.kind] = out.get(c.kind, 0) + 1
        return dict(sorted(out.items()))

    def to_text(self) -> str:
        head = f"{self.a} -> {self.b}: "
        if not self.changes:
            return head + "no changes\n"
        lines = [head + f"{len(self.changes)} change(s)"]
        lines += [f"  - {c.text}" for c in self.changes]
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        payload = {"a": self.a, "b": self.b, "counts": self.counts,
                   "changes": [asdict(c) for c in self.changes]}
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return str(value)


def _table_changes(item: str, name: str, a: dict[Any, str], b: dict[Any, str]) -> list[Change]:
    a_norm = {normalise_value(k): (k, v) for k, v in a.items()}
    b_norm = {normalise_value(k): (k, v) for k, v in b.items()}
    changes: list[Change] = []
    for norm, (key, target) in a_norm.items():
        if norm not in b_norm:
            changes.append(Change(
                f"{name}-removed", f"item {item}: {name} {key!r} -> {target} removed",
                item=item, field=name, key=str(key), before=target))
        elif b_norm[norm][1] != target:
            after = b_norm[norm][1]
            changes.append(Change(
                f"{name}-changed",
                f"item {item}: {name} {key!r} now goes to {after} (was {target})",
                item=item, field=name, key=str(key), before=target, after=after))
    for norm, (key, target) in b_norm.items():
        if norm not in a_norm:
            changes.append(Change(
                f"{name}-added", f"item {item}: {name} {key!r} -> {target} added",
                item=item, field=name, key=str(key), after=target))
    return changes


def _item_changes(a: Item, b: Item) -> list[Change]:
    changes: list[Change] = []
    if a.comparability != b.comparability:
        direction = ("lowered" if GRADES.index(b.comparability) > GRADES.index(a.comparability)
                     else "raised")
        changes.append(Change(
            "grade-changed",
            f"item {a.id}: grade {direction} from {a.comparability} to {b.comparability}",
            item=a.id, field="comparability", before=a.comparability, after=b.comparability))
    for name in _ITEM_FIELDS:
        before, after = getattr(a, name), getattr(b, name)
        if before == after:
            continue
        if name == "note":
            text = f"item {a.id}: note changed from {before!r} to {after!r}"
        else:
            text = f"item {a.id}: {name} changed from {_show(before)} to {_show(after)}"
        changes.append(Change(f"{name}-changed", text, item=a.id, field=name,
                              before=_show(before), after=_show(after)))
    changes += _table_changes(a.id, "recode", dict(a.recode), dict(b.recode))
    changes += _table_changes(a.id, "missing", dict(a.missing), dict(b.missing))
    return changes


def diff_crosswalks(a: Crosswalk, b: Crosswalk) -> CrosswalkDiff:
    """Every difference between ``a`` (older) and ``b`` (newer), header first, then items."""
    changes: list[Change] = []
    da = a.model_dump(mode="json", by_alias=True, exclude={"items"})
    db = b.model_dump(mode="json", by_alias=True, exclude={"items"})
    for name in da:
        if da[name] == db[name]:
            continue
        if name == "changelog":
            new = [e for e in db[name] if e not in da[name]]
            for entry in new:
                changes.append(Change("changelog-added", f"changelog entry added: {entry}",
                                      field=name, after=entry))
            if not new:
                changes.append(Change("changelog-changed", "changelog entries edited or removed",
                                      field=name, before=_show(da[name]),
                                      after=_show(db[name])))
            continue
        changes.append(Change(
            "field-changed", f"{name} changed from {_show(da[name])} to {_show(db[name])}",
            field=name, before=_show(da[name]), after=_show(db[name])))
    items_a = {i.id: i for i in a.items}
    items_b = {i.id: i for i in b.items}
    for item_id, item in items_a.items():
        if item_id not in items_b:
            changes.append(Change(
                "item-removed",
                f"item {item_id} removed (was {item.concept or 'no concept'} from "
                f"{item.source!r}, grade {item.comparability})",
                item=item_id))
    for item_id, item in items_a.items():
        if item_id in items_b:
            changes += _item_changes(item, items_b[item_id])
    for item_id, item in items_b.items():
        if item_id not in items_a:
            changes.append(Change(
                "item-added",
                f"item {item_id} added: {item.concept or 'no concept yet'} from "
                f"{item.source!r}, {len(item.recode)} recode + {len(item.missing)} missing "
                f"entries, grade {item.comparability}",
                item=item_id))
    return CrosswalkDiff(a=a.ref, b=b.ref, changes=tuple(changes))
