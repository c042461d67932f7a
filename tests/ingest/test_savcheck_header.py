"""A damaged SPSS case count is refused before ReadStat allocates for it (found by fuzzing)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from harmonise.errors import IngestError
from harmonise.ingest import read_survey


@pytest.mark.parametrize("n_cases", [536_870_917, 823_525_381])
def test_a_case_count_the_file_cannot_hold_is_refused(
    root: Path, tmp_path: Path, n_cases: int
) -> None:
    content = bytearray((root / "surveys/bedford/bedford-residents-2024.sav").read_bytes())
    content[80:84] = struct.pack("<i", n_cases)
    bad = tmp_path / "damaged.sav"
    bad.write_bytes(bytes(content))
    with pytest.raises(IngestError, match=rf"damaged.sav: .*declares {n_cases:,} cases"):
        read_survey(bad)


def test_an_unrecorded_case_count_is_left_to_the_reader(root: Path, tmp_path: Path) -> None:
    content = bytearray((root / "surveys/bedford/bedford-residents-2024.sav").read_bytes())
    content[80:84] = struct.pack("<i", -1)  # SPSS writes -1 when it does not know the count
    path = tmp_path / "unknown-count.sav"
    path.write_bytes(bytes(content))
    assert read_survey(path).provenance.n_rows == 1149
