"""A design and its cached domain tables are freed as soon as the caller drops the design.

The tables are cached on the design; if they held the design strongly, the pair would be
a reference cycle and every N-sized array of both would wait for the garbage collector
(at 1M respondents, tens of MiB per design in a long-running job).
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from harmonise.errors import EstimationError
from harmonise.estimate import Design, proportions_by
from harmonise.estimate.domains import domain_tables


def _design() -> Design:
    rng = np.random.default_rng(5)
    n = 200
    return Design(
        weights=rng.uniform(1, 3, n),
        strata=np.repeat([0, 1], n // 2),
        clusters=np.repeat(np.arange(20), n // 20),
        raking=(rng.integers(0, 2, n),),
    )


def test_design_with_domain_tables_is_freed_without_the_garbage_collector() -> None:
    design = _design()
    y = (np.arange(design.n) % 3 == 0).astype(float)
    proportions_by(design, y, np.arange(design.n) % 2)  # builds and caches the tables
    tables = weakref.ref(domain_tables(design))
    alive = weakref.ref(design)
    gc.disable()
    try:
        del design
        assert alive() is None
        assert tables() is None
    finally:
        gc.enable()


def test_domain_tables_of_a_dropped_design_say_so() -> None:
    design = _design()
    tables = domain_tables(design)
    del design
    gc.collect()
    with pytest.raises(EstimationError, match="no longer exists"):
        _ = tables.design
