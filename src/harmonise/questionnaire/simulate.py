"""Simulated responses from an XLSForm's structure, laid out as a Kobo CSV export (pure).

Only the workbook's rows are read (types, names, choice lists, ``relevant``, ``constraint``,
``calculation``), so what is simulated is what the form would collect:

* routing is honoured: a question whose ``relevant`` is false is left blank, as ODK/Kobo
  leave it; a required question is always answered; a calculation is evaluated;
* the export looks like KoboToolbox's CSV ("XML values and headers", groups in headers
  joined by ``/``, select-multiple as one space-joined column followed by one 1/0 column per
  option named ``<question>/<option>``), with Kobo's submission metadata columns at the end.

The ``relevant`` / ``calculation`` grammar understood is the one the writer emits:
``${x}``, numbers, quoted strings, ``= != < <= > >=``, ``selected(${x}, 'code')``,
``if(cond, a, b)``, ``and``, ``or`` and parentheses. Anything else is an error, so a form
the simulator cannot honour fails loudly instead of being simulated wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmonise.errors import QuestionnaireError
from harmonise.questionnaire.crosswalks import KOBO_METADATA
from harmonise.questionnaire.xlsform import XLSFormRows

_TOKEN = re.compile(r"\s*(\$\{[a-z_][a-z0-9_]*\}|'[^']*'|\d+(?:\.\d+)?|>=|<=|!=|=|<|>|\(|\)|,|"
                    r"selected|if|and|or|\.)")
Value = str | float | None


class _Parser:
    """Recursive descent over the tokens of one expression; evaluates as it parses."""

    def __init__(self, text: str, values: Mapping[str, Value], here: Value = None) -> None:
        self.text = text
        self.tokens = self._tokenise(text)
        self.pos = 0
        self.values = values
        self.here = here

    def _tokenise(self, text: str) -> list[str]:
        out, pos = [], 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None:
                raise QuestionnaireError(f"cannot simulate expression {text!r}: unexpected "
                                         f"text at {text[pos:pos + 20]!r}")
            out.append(m.group(1))
            pos = m.end()
        return out

    def peek(self) -> str:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if expected is not None and tok != expected:
            raise QuestionnaireError(f"cannot simulate expression {self.text!r}: expected "
                                     f"{expected!r}, found {tok!r}")
        self.pos += 1
        return tok

    def parse(self) -> Value | bool:
        value = self.expr()
        if self.pos != len(self.tokens):
            raise QuestionnaireError(f"cannot simulate expression {self.text!r}: trailing "
                                     f"{self.peek()!r}")
        return value

    def expr(self) -> Value | bool:
        value = self.term()
        while self.peek() == "or":
            self.take()
            right = self.term()
            value = bool(value) or bool(right)
        return value

    def term(self) -> Value | bool:
        value = self.factor()
        while self.peek() == "and":
            self.take()
            right = self.factor()
            value = bool(value) and bool(right)
        return value

    def factor(self) -> Value | bool:
        left = self.operand()
        if self.peek() in ("=", "!=", "<", "<=", ">", ">="):
            op = self.take()
            right = self.operand()
            return _compare(left, op, right)
        return left

    def operand(self) -> Value | bool:
        tok = self.take()
        if tok == "(":
            value = self.expr()
            self.take(")")
            return value
        if tok == "selected":
            self.take("(")
            ref = self.operand()
            self.take(",")
            code = self.operand()
            self.take(")")
            return isinstance(ref, str) and str(code) in ref.split()
        if tok == "if":
            self.take("(")
            cond = self.expr()
            self.take(",")
            yes = self.expr()
            self.take(",")
            no = self.expr()
            self.take(")")
            return yes if cond else no
        if tok == ".":
            return self.here
        if tok.startswith("${"):
            return self.values.get(tok[2:-1])
        if tok.startswith("'"):
            return tok[1:-1]
        if tok and tok[0].isdigit():
            return float(tok)
        raise QuestionnaireError(f"cannot simulate expression {self.text!r}: unexpected {tok!r}")


def _compare(left: Value | bool, op: str, right: Value | bool) -> bool:
    if left is None or right is None:  # a blank answer: ODK compares '' and fails
        return op == "!="
    if isinstance(left, float) or isinstance(right, float):
        try:
            a, b = float(left), float(right)
        except ValueError:
            return False
        return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
                ">=": a >= b}[op]
    return {"=": left == right, "!=": left != right}.get(op, False)


def evaluate(expression: str, values: Mapping[str, Value], here: Value = None) -> Value | bool:
    """Evaluate an XLSForm expression of the writer's grammar against answers so far."""
    return _Parser(expression, values, here).parse()


@dataclass(frozen=True)
class SimOptions:
    n: int = 400
    seed: int = 1
    #: share of answers that are "Don't know" / "Prefer not to say" where offered
    missing_share: float = 0.05
    #: cluster codes to draw from for a calculate field named by ``cluster`` (schools)
    cluster: str | None = None
    n_clusters: int = 12


def _age_sampler(constraint: str) -> tuple[int, int]:
    nums = [int(float(x)) for x in re.findall(r"\d+(?:\.\d+)?", constraint)]
    if len(nums) != 2:
        raise QuestionnaireError(f"cannot simulate an integer with constraint {constraint!r}")
    return nums[0], min(nums[1], 90)


def simulate(rows: XLSFormRows, options: SimOptions) -> pd.DataFrame:
    """``options.n`` simulated submissions in Kobo's CSV layout (column order as Kobo)."""
    rng = np.random.default_rng(options.seed)
    lists: dict[str, list[str]] = {}
    for c in rows.choices:
        lists.setdefault(c["list_name"], []).append(c["name"])
    special = {"dont_know", "prefer_not_to_say"}
    # one answer distribution per question (fixed for the sample), skewed so weighting matters
    probs: dict[str, np.ndarray] = {}
    columns: list[str] = []
    fields: list[tuple[str, str, dict[str, str]]] = []  # (path, kind, row)
    groups: list[str] = []
    for r in rows.survey:
        kind, name = r["type"].split(" ")[0], r["name"]
        if kind == "begin_group":
            groups.append(name)
            continue
        if kind == "end_group":
            groups.pop()
            continue
        if kind == "note":
            continue
        path = "/".join([*groups, name])
        fields.append((path, kind, r))
        columns.append(path)
        if kind == "select_multiple":
            columns += [f"{path}/{c}" for c in lists[r["type"].split(" ")[1]]]
    out: dict[str, list[object]] = {c: [] for c in columns}
    school_codes = [f"S{k:02d}" for k in range(1, options.n_clusters + 1)]
    for _ in range(options.n):
        values: dict[str, Value] = {}
        for path, kind, r in fields:
            name = r["name"]
            asked = not r.get("relevant") or bool(evaluate(r["relevant"], values))
            value: Value = None
            if kind == "calculate":
                if name == options.cluster:
                    value = school_codes[int(rng.integers(len(school_codes)))]
                else:
                    result = evaluate(r["calculation"], values)
                    value = None if isinstance(result, bool) else result
            elif not asked:
                value = None
            elif kind == "integer":
                low, high = _age_sampler(r.get("constraint", ""))
                value = float(int(low + (high - low) * rng.beta(1.3, 2.0)))
                if not evaluate(r["constraint"], values, here=value):
                    raise QuestionnaireError(f"simulated {value} breaks the constraint of {name}")
            elif kind == "select_one":
                choices = lists[r["type"].split(" ")[1]]
                real = [c for c in choices if c not in special]
                offered = [c for c in choices if c in special]
                if offered and rng.random() < options.missing_share:
                    value = offered[int(rng.integers(len(offered)))]
                else:
                    if path not in probs:
                        probs[path] = rng.dirichlet(np.full(len(real), 2.0))
                    value = real[int(rng.choice(len(real), p=probs[path]))]
            elif kind == "select_multiple":
                choices = lists[r["type"].split(" ")[1]]
                ticked = [c for c in choices if rng.random() < 0.3]
                value = " ".join(ticked or [choices[-1]])  # required: at least one
            else:
                raise QuestionnaireError(f"cannot simulate question type {kind!r} ({name})")
            values[name] = value
            out[path].append("" if value is None else
                             (int(value) if isinstance(value, float) else value))
            if kind == "select_multiple":
                chosen = set(str(value).split()) if value is not None else None
                for option in lists[r["type"].split(" ")[1]]:
                    out[f"{path}/{option}"].append("" if chosen is None else
                                                   int(option in chosen))
    frame = pd.DataFrame(out, columns=columns)
    return _with_metadata(frame, rows, rng)


def _with_metadata(frame: pd.DataFrame, rows: XLSFormRows,
                   rng: np.random.Generator) -> pd.DataFrame:
    n = len(frame)
    ids = np.sort(rng.choice(np.arange(100_000, 999_999), size=n, replace=False))
    start = pd.Timestamp("2027-09-01 08:00:00")
    seconds = np.sort(rng.integers(0, 60 * 60 * 24 * 80, size=n))
    meta = {
        "_id": ids,
        "_uuid": [f"{rng.integers(16**8):08x}-{rng.integers(16**4):04x}-4{rng.integers(16**3):03x}"
                  f"-a{rng.integers(16**3):03x}-{rng.integers(16**12):012x}" for _ in range(n)],
        "_submission_time": [(start + pd.Timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%S")
                             for s in seconds],
        "_validation_status": [""] * n,
        "_notes": [""] * n,
        "_status": ["submitted_via_web"] * n,
        "_submitted_by": [""] * n,
        "__version__": [f"v{rows.settings.get('version', '1')}"] * n,
        "_tags": [""] * n,
        "_index": np.arange(1, n + 1),
    }
    assert tuple(meta) == KOBO_METADATA
    return pd.concat([frame, pd.DataFrame(meta)], axis=1)


def kobo_csv(frame: pd.DataFrame) -> bytes:
    """The frame as Kobo writes its CSV export: ``;``-separated, UTF-8 with a BOM."""
    text = frame.to_csv(index=False, sep=";", lineterminator="\n")
    return ("\ufeff" + text).encode("utf-8")
