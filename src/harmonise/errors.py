"""The one exception tree of harmonise.

Failures the user cannot continue past raise a subclass of :class:`HarmoniseError`;
the CLI turns it into a clean message and a non-zero exit code in one place
(``harmonise.cli``). Problems that can be reported all at once (crosswalk validation)
are data, not exceptions: see :class:`harmonise.models.report.Report`.

    HarmoniseError
    ├── IngestError            a survey export cannot be read faithfully
    ├── CrosswalkError         a schema or crosswalk file is invalid or does not fit the data
    │   └── UnmappedValueError a source value has no entry in the recode table
    ├── TargetsError           a population targets file is malformed or inconsistent
    ├── WeightingError         weights cannot be computed (empty cell, no convergence)
    ├── EstimationError        a design or estimate cannot be computed (lonely PSU, empty domain)
    ├── DisclosureError        published tables cannot be checked for disclosure
    ├── ReportError            outputs cannot be written
    ├── StoreError             the workspace store cannot be opened, read or written
    ├── QuestionnaireError     a questionnaire spec is invalid or a form cannot be built
    └── PlanningError          a sample-size, allocation or bridge input is out of range

Every message says what went wrong, where (file, row/column/variable, value) and what to do.
"""

from __future__ import annotations


class HarmoniseError(Exception):
    """Root of every error harmonise raises on purpose."""


class IngestError(HarmoniseError):
    """A survey export cannot be read faithfully."""


class CrosswalkError(HarmoniseError):
    """A schema or crosswalk file is invalid, or does not fit the data it is applied to."""


class UnmappedValueError(CrosswalkError):
    """A value present in the data is not listed in the crosswalk's recode table."""


class TargetsError(HarmoniseError):
    """A population targets file is malformed or its margins are inconsistent."""


class WeightingError(HarmoniseError):
    """Weights cannot be computed (an empty sample cell, raking that does not converge)."""


class EstimationError(HarmoniseError):
    """A design or an estimate cannot be computed."""


class DisclosureError(HarmoniseError):
    """Published tables cannot be checked for disclosure (a grouping the check cannot place)."""


class ReportError(HarmoniseError):
    """Outputs cannot be written."""


class StoreError(HarmoniseError):
    """The workspace store cannot be opened, read or written."""


class QuestionnaireError(HarmoniseError):
    """A questionnaire spec is invalid, or a form built from it cannot be converted."""


class PlanningError(HarmoniseError):
    """A sample-size, allocation or bridge input is out of range or inconsistent (a share
    not in (0, 1), a total too small for the minimum per partnership, an unknown concept)."""


__all__ = [
    "CrosswalkError",
    "DisclosureError",
    "EstimationError",
    "HarmoniseError",
    "IngestError",
    "PlanningError",
    "QuestionnaireError",
    "ReportError",
    "StoreError",
    "TargetsError",
    "UnmappedValueError",
    "WeightingError",
]
