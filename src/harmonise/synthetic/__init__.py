"""Fixed-seed generator of SYNTHETIC sample surveys with known truth.

``generate_all(root)`` writes, under the repository root ``root``:

- five exports as the CSPs would hand them over (``surveys/bedford/…sav``,
  ``surveys/central-beds/…xlsx``, ``surveys/luton/…dta``, ``surveys/luton/…csv``), the
  last for two waves of the Luton residents' survey (2024 and 2025);
- their weighting targets (``surveys/targets/*.csv``, every row ``status=illustrative``);
- the true population value of every indicator (``surveys/truth/<crosswalk-id>.csv``).

Each survey module exposes ``build(seed) -> SurveyBuild`` (population, respondents, export
frame, targets, truth) and ``write(build, root) -> list[Path]``. Nothing here is real survey
data; see ``surveys/README.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harmonise.synthetic import (
    bedford,
    central_beds,
    luton_pupils,
    luton_residents,
    luton_residents_2025,
)
from harmonise.synthetic.common import SYNTHETIC_NOTICE, SurveyBuild

__all__ = [
    "DEFAULT_SEED",
    "SURVEYS",
    "SYNTHETIC_NOTICE",
    "SurveyBuild",
    "SyntheticSurvey",
    "generate_all",
]

DEFAULT_SEED = 20261125


@dataclass(frozen=True)
class SyntheticSurvey:
    """One synthetic survey: where it goes and how to build and write it."""

    crosswalk_id: str
    export: Path  # relative to the repository root
    targets_name: str
    build: Callable[[int], SurveyBuild]
    write: Callable[[SurveyBuild, Path], list[Path]]
    expected_recodes: Callable[[], dict[str, dict[int | str, str]]]


SURVEYS: tuple[SyntheticSurvey, ...] = tuple(
    SyntheticSurvey(
        crosswalk_id=m.CROSSWALK_ID,
        export=m.EXPORT,
        targets_name=m.TARGETS_NAME,
        build=m.build,
        write=m.write,
        expected_recodes=m.expected_recodes,
    )
    for m in (bedford, central_beds, luton_pupils, luton_residents, luton_residents_2025)
)


def generate_all(root: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Build every synthetic survey with ``seed`` and write it under ``root``.

    Returns the paths written. The same seed always gives the same data.
    """
    written: list[Path] = []
    for survey in SURVEYS:
        for path in survey.write(survey.build(seed), Path(root)):
            if path not in written:  # waves of one survey share their targets file
                written.append(path)
    return written
