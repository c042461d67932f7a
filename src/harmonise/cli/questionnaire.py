"""harmonise questionnaire: design the joint survey (bridge, sample size)."""

from __future__ import annotations

import click

from harmonise.cli.questionnaire_plan import COMMANDS as PLAN_COMMANDS


@click.group()
def questionnaire() -> None:
    """Design the joint community safety survey.

    Example:

    \b
        harmonise questionnaire sample-size --difference 0.05 --power 0.8
    """


for _command in PLAN_COMMANDS:
    questionnaire.add_command(_command)

COMMANDS: list[click.Command] = [questionnaire]
