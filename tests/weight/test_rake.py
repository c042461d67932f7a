"""Raking: properties (hypothesis), a hand-checked case, error messages, diagnostics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmonise.errors import WeightingError
from harmonise.weight import METHODS, Margin, RakeResult, rake, summarise_weights


def margin(
    name: str, codes: list[int], targets: list[float], labels: list[str] | None = None
) -> Margin:
    return Margin(
        name=name,
        codes=np.array(codes, dtype=np.int64),
        targets=np.array(targets, dtype=float),
        labels=tuple(labels or [f"c{i}" for i in range(len(targets))]),
    )


@st.composite
def problems(draw: Any) -> tuple[np.ndarray, list[Margin]]:
    """Base weights and 1-3 margins whose targets some positive weights meet exactly."""
    n = draw(st.integers(8, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.5, 20.0, n)  # a feasible solution, so raking converges
    margins = []
    for j in range(draw(st.integers(1, 3))):
        k = draw(st.integers(2, 4))
        codes = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])  # no empty cell
        rng.shuffle(codes)
        targets = np.bincount(codes, weights=truth, minlength=k)
        margins.append(Margin(f"m{j}", codes, targets, tuple(f"c{i}" for i in range(k))))
    base = rng.uniform(0.1, 10.0, n)
    return base, margins


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def achieved(w: np.ndarray, m: Margin) -> np.ndarray:
    return np.bincount(m.codes, weights=w, minlength=len(m.labels))


@PROPERTY
@given(problems())
def test_raking_reproduces_every_margin(problem: tuple[np.ndarray, list[Margin]]) -> None:
    base, margins = problem
    result = rake(base, margins, epsilon=1e-10, max_iterations=5000)
    total = float(margins[0].targets.sum())
    assert result.converged
    for m in margins:
        assert np.max(np.abs(achieved(result.weights, m) - m.targets)) <= 1e-10 * total * (1 + 1e-6)
    assert result.max_gap <= 1e-10
    assert np.all(result.weights > 0)


@PROPERTY
@given(problems(), st.integers(0, 2**32 - 1))
def test_raking_is_invariant_to_row_order(
    problem: tuple[np.ndarray, list[Margin]], seed: int
) -> None:
    base, margins = problem
    order = np.random.default_rng(seed).permutation(base.size)
    shuffled = [Margin(m.name, m.codes[order], m.targets, m.labels) for m in margins]
    a = rake(base, margins, max_iterations=5000).weights
    b = rake(base[order], shuffled, max_iterations=5000).weights
    np.testing.assert_allclose(b, a[order], rtol=1e-7)


@PROPERTY
@given(problems())
def test_raking_is_idempotent_once_calibrated(problem: tuple[np.ndarray, list[Margin]]) -> None:
    base, margins = problem
    first = rake(base, margins, max_iterations=5000)
    again = rake(first.weights, margins, max_iterations=5000)
    assert again.iterations == 0
    np.testing.assert_array_equal(again.weights, first.weights)


def test_two_by_two_reaches_the_independence_table() -> None:
    # Equal base weights over a full 2x2 table: IPF gives T1 * T2 / total per cell.
    sex = margin("sex", [0, 0, 1, 1], [30, 70])
    age = margin("age", [0, 1, 0, 1], [40, 60])
    result = rake(np.ones(4), [sex, age])
    np.testing.assert_allclose(result.weights, [12, 18, 28, 42], rtol=1e-12)
    assert result.converged and 1 <= result.iterations <= 3


def test_input_is_not_modified_or_aliased() -> None:
    base = np.array([1.0, 2.0, 3.0, 4.0])
    m = margin("sex", [0, 0, 1, 1], [3.0, 7.0])
    result = rake(base, [m])
    assert base.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert result.weights is not base
    again = rake(result.weights, [m])
    assert again.weights is not result.weights


def test_no_convergence_can_be_returned_instead_of_raised() -> None:
    sex = margin("sex", [0, 0, 1, 1, 0], [30, 70])
    age = margin("age", [0, 1, 0, 1, 1], [40, 60])
    result = rake(np.ones(5), [sex, age], max_iterations=1, fail_on_no_convergence=False)
    assert isinstance(result, RakeResult)
    assert not result.converged and result.iterations == 1 and result.max_gap > 1e-10


SEX = ("sex", [0, 0, 1, 1], [50.0, 50.0], ["male", "female"])
ERRORS = [
    (
        "empty-cell",
        dict(base=[1, 1, 1, 1], margins=[("sex", [0, 0, 0, 0], [50.0, 50.0], ["male", "female"])]),
        ["margin 'sex'", "'female'", "no sample respondent", "collapse"],
    ),
    (
        "respondents-in-zero-target",
        dict(base=[1, 1, 1, 1], margins=[("sex", [0, 1, 2, 2], [50, 50, 0], ["m", "f", "other"])]),
        ["margin 'sex'", "'other' (2 respondent(s))", "target of 0"],
    ),
    (
        "totals-differ",
        dict(base=[1, 1, 1, 1], margins=[SEX, ("age", [0, 1, 0, 1], [40.0, 70.0], ["y", "o"])]),
        ["sex = 100", "age = 110", "Rescale"],
    ),
    (
        "non-positive-base-weight",
        dict(base=[1, 0, 1, -2], margins=[SEX]),
        ["2 respondent(s)", "rows 2, 4", "base weight"],
    ),
    ("nan-base-weight", dict(base=[1, 1, np.nan, 1], margins=[SEX]), ["rows 3", "missing"]),
    (
        "no-convergence",
        dict(
            base=[1, 1, 1, 1, 1],
            margins=[
                ("sex", [0, 0, 1, 1, 0], [30, 70], None),
                ("age", [0, 1, 0, 1, 1], [40, 60], None),
            ],
            max_iterations=2,
        ),
        ["did not converge after 2 sweeps", "largest gap", "Raise max_iterations", "collapse"],
    ),
    (
        "code-out-of-range",
        dict(base=[1, 1, 1, 1], margins=[("sex", [0, -1, 1, 1], [50.0, 50.0], None)]),
        ["margin 'sex'", "outside 0..1", "rows 2", "missing value"],
    ),
    (
        "codes-wrong-length",
        dict(base=[1, 1, 1], margins=[SEX]),
        ["4 category code(s) for 3 base weight(s)"],
    ),
    (
        "targets-vs-labels",
        dict(base=[1, 1, 1, 1], margins=[("sex", [0, 0, 1, 1], [50.0, 50.0], ["m", "f", "x"])]),
        ["2 target(s) for 3 label(s)"],
    ),
    (
        "float-codes",
        dict(base=[1, 1], margins=[("sex", [0.0, 1.0], [1.0, 1.0], None)]),
        ["integers"],
    ),
    ("no-margins", dict(base=[1, 1], margins=[]), ["at least one margin"]),
]


@pytest.mark.parametrize(
    ("case", "fragments"), [(c, f) for _, c, f in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_rake_errors_say_what_where_and_what_to_do(
    case: dict[str, Any], fragments: list[str]
) -> None:
    margins = [
        Margin(
            name,
            np.asarray(codes),
            np.asarray(targets, dtype=float),
            tuple(labels or [f"c{i}" for i in range(len(targets))]),
        )
        for name, codes, targets, labels in case["margins"]
    ]
    with pytest.raises(WeightingError) as info:
        rake(
            np.asarray(case["base"], dtype=float),
            margins,
            max_iterations=case.get("max_iterations", 1000),
        )
    for fragment in fragments:
        assert fragment in str(info.value)


def test_registry_holds_rake() -> None:
    assert METHODS["rake"].fit is rake


def test_summarise_weights_by_hand() -> None:
    w = np.array([1.0, 1.0, 2.0, 4.0])
    s = summarise_weights(w)
    assert (s.n, s.total, s.min, s.max, s.ratio_max_min) == (4, 8.0, 1.0, 4.0, 4.0)
    assert s.cv == pytest.approx(np.sqrt(np.mean((w - 2) ** 2)) / 2)  # divisor n
    assert s.kish_deff == pytest.approx(4 * 22 / 64)
    assert s.kish_deff == pytest.approx(1 + s.cv**2)
    assert s.effective_n == pytest.approx(64 / 22)
    assert s.share_top1pct == pytest.approx(4 / 8)  # top 1% of 4 is one respondent


def test_share_top1pct_counts_ceil_of_one_percent() -> None:
    w = np.ones(700)
    w[:8] = 10.0
    # ceil(700 / 100) = 7 respondents, all with weight 10 (no float drift to 8)
    assert summarise_weights(w).share_top1pct == pytest.approx(70 / (692 + 80))


@pytest.mark.parametrize("bad", [[], [1.0, 0.0], [1.0, np.nan], [[1.0, 2.0]]])
def test_summarise_weights_rejects_bad_weights(bad: list[Any]) -> None:
    with pytest.raises(WeightingError, match="weight"):
        summarise_weights(np.array(bad, dtype=float))
