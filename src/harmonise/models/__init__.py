"""Typed objects passed between stages (pydantic for files people edit, frozen dataclasses else)."""

from harmonise.models.crosswalk import BLANK, Crosswalk, DesignSpec, Item, WeightingSpec
from harmonise.models.schema import GRADES, MISSING_TYPES, Concept, Indicator, Scale, Schema
from harmonise.models.survey import Codebook, FlaggedColumn, Provenance, SurveyFile, VariableInfo

__all__ = [
    "BLANK",
    "GRADES",
    "MISSING_TYPES",
    "Codebook",
    "Concept",
    "Crosswalk",
    "DesignSpec",
    "FlaggedColumn",
    "Indicator",
    "Item",
    "Provenance",
    "Scale",
    "Schema",
    "SurveyFile",
    "VariableInfo",
    "WeightingSpec",
]
