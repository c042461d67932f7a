"""Charts for the report. Pure: each function returns a ggplot; writing is elsewhere."""

from __future__ import annotations

import textwrap

import pandas as pd
from plotnine import (
    aes,
    coord_flip,
    element_text,
    facet_wrap,
    geom_col,
    geom_errorbar,
    geom_pointrange,
    ggplot,
    labs,
    position_dodge,
    scale_color_manual,
    scale_y_continuous,
    theme,
    theme_bw,
)

GRADE_COLOURS = {
    "identical": "#1b7837",
    "equivalent": "#5aae61",
    "close": "#2166ac",
    "proxy": "#b35806",
    "not comparable": "#762a83",
}


#: One font for every chart (matplotlib ships it), so images are the same on every machine.
FONT = "DejaVu Sans"


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def survey_labels(rows: pd.DataFrame) -> pd.Series:
    """'Luton\nadults 18plus, 2025': partnership (short), population and wave."""
    short = rows["csp_name"].str.replace(" Community Safety Partnership", "", regex=False)
    population = rows["population"].str.replace("_", " ", regex=False)
    return short + "\n" + population + ", " + rows["wave"].astype(str)


def indicator_chart(rows: pd.DataFrame, title: str) -> ggplot:
    """Point estimates with 95% CIs per survey, one panel per indicator, coloured by grade.

    ``rows``: weighted, overall, non-suppressed EstimateTable rows of single-answer indicators.
    """
    df = rows.assign(
        survey=survey_labels(rows),
        pct=rows["estimate"] * 100,
        lo=rows["ci_low"] * 100,
        hi=rows["ci_high"] * 100,
        panel=rows["label"].map(lambda s: _wrap(str(s), 45)),
    )
    # panels share one height (free scales), so size them for the most crowded one
    panel_height = max(1.1, 0.5 + 0.4 * int(df.groupby("panel")["survey"].nunique().max()))
    return (
        ggplot(df, aes(x="survey", y="pct", ymin="lo", ymax="hi", color="comparability"))
        + geom_pointrange(size=0.6)
        + coord_flip()
        + facet_wrap("panel", ncol=1, scales="free_y")
        + scale_y_continuous(limits=(0, 100))
        + scale_color_manual(values=GRADE_COLOURS, breaks=list(GRADE_COLOURS),
                             name="Comparability grade")
        + labs(x="", y="% (weighted, 95% CI)", title=title)
        + theme_bw()
        + theme(figure_size=(8, 1.6 + df["panel"].nunique() * panel_height),
                text=element_text(family=FONT),
                strip_text=element_text(size=8, family=FONT), legend_position="bottom")
    )


def multiselect_chart(rows: pd.DataFrame, title: str) -> ggplot:
    """Share selecting each option, per survey (dodged bars with 95% CIs)."""
    df = rows.assign(
        survey=survey_labels(rows).str.replace("\n", " · ", regex=False),
        pct=rows["estimate"] * 100,
        lo=rows["ci_low"] * 100,
        hi=rows["ci_high"] * 100,
        option_label=rows["label"].str.split(": ").str[-1].map(lambda s: _wrap(str(s), 30)),
    )
    dodge = position_dodge(width=0.8)
    return (
        ggplot(df, aes(x="option_label", y="pct", fill="survey"))
        + geom_col(position=dodge, width=0.75)
        + geom_errorbar(aes(ymin="lo", ymax="hi"), position=dodge, width=0.25)
        + coord_flip()
        + scale_y_continuous(limits=(0, 100))
        + labs(x="", y="% selecting (weighted, 95% CI)", fill="Survey", title=title)
        + theme_bw()
        + theme(figure_size=(8, 1.5 + 0.55 * df["option_label"].nunique()),
                text=element_text(family=FONT), legend_position="bottom")
    )
