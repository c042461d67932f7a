"""Write a crosswalk model back to YAML canonically: fixed key order, defaults left out.

``load_crosswalk(dump_crosswalk(cw))`` gives a model equal to ``cw`` (a hypothesis test
checks this). Strings that a YAML loader would read as something else (``"1"``, ``"Yes"``,
``"null"``, ``"2024-01-01"``) are quoted; codes stay numbers; dates stay dates.
"""

from __future__ import annotations

from typing import Any

import yaml

from harmonise.models.crosswalk import Crosswalk


class _Dumper(yaml.SafeDumper):
    """SafeDumper that never writes aliases and indents lists under their key."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _plain(value: Any) -> Any:
    """Tuples -> lists, recursively (YAML has sequences only)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def crosswalk_data(cw: Crosswalk) -> dict[str, Any]:
    """The crosswalk as plain data in file order (field order), defaults left out."""
    data = cw.model_dump(mode="python", by_alias=True, exclude_defaults=True)
    # Always state these even at their defaults: a reader should not have to know them.
    data.setdefault("synthetic", cw.synthetic)
    order = [f.alias or name for name, f in Crosswalk.model_fields.items()]
    ordered = {k: data[k] for k in order if k in data}
    return _plain(ordered)  # type: ignore[no-any-return]


def dump_crosswalk(cw: Crosswalk) -> str:
    """Canonical YAML text for ``cw`` (UTF-8, 88 columns, block style)."""
    text: str = yaml.dump(crosswalk_data(cw), Dumper=_Dumper, sort_keys=False,
                          allow_unicode=True, width=88, default_flow_style=False)
    return text
