"""harmonise: make local community safety surveys comparable.

The public API, one name per stage (imported on first use, so ``import harmonise`` and the
command line start fast)::

    from harmonise import read_survey, load_schema, load_crosswalk, apply_crosswalk
    survey = read_survey(Path("export.sav"))                       # ingest
    hs = apply_crosswalk(survey, load_crosswalk(cw), load_schema(s))  # recode
    ws = weight_survey(hs, targets)                                 # weight
    table = estimate_indicators(ws, schema)                         # estimate
    result = run(Path("surveys/manifest.yaml"))                     # or the whole main job

Everything else is reachable through the stage packages (``harmonise.ingest``,
``harmonise.estimate``, ...) and may change between minor versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harmonise._util.lazy import lazy_getattr

try:
    from harmonise._version import __version__
except ImportError:  # sources used without an install (setuptools-scm writes _version.py)
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("harmonise")  # the installed distribution's, if any
    except PackageNotFoundError:
        __version__ = "0+unknown"

if TYPE_CHECKING:
    from harmonise.compare.pairs import compare
    from harmonise.compare.trends import trends
    from harmonise.crosswalk.io import load_crosswalk, load_schema
    from harmonise.crosswalk.validate import validate_paths
    from harmonise.errors import HarmoniseError
    from harmonise.estimate.indicators import estimate_indicators
    from harmonise.ingest import read_survey
    from harmonise.models.crosswalk import Crosswalk
    from harmonise.models.harmonised import EstimateTable, HarmonisedSurvey, WeightedSurvey
    from harmonise.models.run import DisclosureRules, Manifest, RunResult
    from harmonise.models.schema import Schema
    from harmonise.models.survey import SurveyFile
    from harmonise.pipeline import load_manifest, run
    from harmonise.recode import apply_crosswalk
    from harmonise.report import report_data, write_report
    from harmonise.store import Store
    from harmonise.weight.stage import weight_survey
    from harmonise.weight.targets import read_targets_table, select_targets

#: public name -> the module that defines it
_API: dict[str, str] = {
    "read_survey": "harmonise.ingest",
    "load_schema": "harmonise.crosswalk.io",
    "load_crosswalk": "harmonise.crosswalk.io",
    "validate_paths": "harmonise.crosswalk.validate",
    "apply_crosswalk": "harmonise.recode",
    "read_targets_table": "harmonise.weight.targets",
    "select_targets": "harmonise.weight.targets",
    "weight_survey": "harmonise.weight.stage",
    "estimate_indicators": "harmonise.estimate.indicators",
    "compare": "harmonise.compare.pairs",
    "trends": "harmonise.compare.trends",
    "load_manifest": "harmonise.pipeline",
    "run": "harmonise.pipeline",
    "report_data": "harmonise.report",
    "write_report": "harmonise.report",
    "Store": "harmonise.store",
    "SurveyFile": "harmonise.models.survey",
    "Schema": "harmonise.models.schema",
    "Crosswalk": "harmonise.models.crosswalk",
    "HarmonisedSurvey": "harmonise.models.harmonised",
    "WeightedSurvey": "harmonise.models.harmonised",
    "EstimateTable": "harmonise.models.harmonised",
    "Manifest": "harmonise.models.run",
    "RunResult": "harmonise.models.run",
    "DisclosureRules": "harmonise.models.run",
    "HarmoniseError": "harmonise.errors",
}

__all__ = [
    "Crosswalk",
    "DisclosureRules",
    "EstimateTable",
    "HarmoniseError",
    "HarmonisedSurvey",
    "Manifest",
    "RunResult",
    "Schema",
    "Store",
    "SurveyFile",
    "WeightedSurvey",
    "__version__",
    "apply_crosswalk",
    "compare",
    "estimate_indicators",
    "load_crosswalk",
    "load_manifest",
    "load_schema",
    "read_survey",
    "read_targets_table",
    "report_data",
    "run",
    "select_targets",
    "trends",
    "validate_paths",
    "weight_survey",
    "write_report",
]


__getattr__ = lazy_getattr(__name__, _API, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
