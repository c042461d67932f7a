"""Command line: thin click commands over the library. Errors are handled in one place.

Each command lives in its own module under ``harmonise.cli``; ``COMMAND_MODULES`` below
lists them (each module exposes ``COMMANDS``, a list of click commands).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

import harmonise
from harmonise.errors import HarmoniseError


def _repeated(command: click.Command, args: list[str], ctx: click.Context) -> str | None:
    """The first option of ``command`` (or of the sub-command ``args`` name) given twice
    although it takes one value: click would silently keep the last one."""
    parser = command.make_parser(click.Context(command, parent=ctx))
    parser.ignore_unknown_options = True
    try:
        _, rest, order = parser.parse_args(list(args))
    except click.UsageError:
        return None  # click reports the usage error itself
    seen: set[str] = set()
    for param in order:
        if not isinstance(param, click.Option) or param.multiple or param.count:
            continue
        if param.name in seen:
            return max(param.opts, key=len)
        seen.add(param.name or "")
    if isinstance(command, click.Group) and rest:
        sub = command.get_command(ctx, rest[0])
        if sub is not None:
            return _repeated(sub, rest[1:], click.Context(command, parent=ctx))
    return None


class _Group(click.Group):
    """Turns a HarmoniseError into a clean message and exit code 2 (traceback with --debug),
    and refuses an option that takes one value given twice (click would keep the last)."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        repeated = None if command is None else _repeated(command, rest, ctx)
        if repeated is not None:
            raise click.UsageError(
                f"{repeated} is given more than once; give it once (click would silently "
                "keep the last; options that may repeat, such as --mean or --by, say so "
                "in --help)",
                ctx,
            )
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HarmoniseError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(f"Error: {exc}", fg="red", err=True)
            ctx.exit(2)


@click.group(cls=_Group)
@click.version_option(harmonise.__version__, prog_name="harmonise")
@click.option("--debug", is_flag=True, help="Show a full traceback on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """harmonise: make local community safety surveys comparable.

    Reads survey exports, maps them to a common schema through versioned crosswalks,
    weights them to their populations, estimates indicators with design-based
    confidence intervals and compares surveys only where the questions match.

    Example:

    \b
        harmonise run --manifest surveys/manifest.yaml --out reports
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug




#: Modules whose COMMANDS are added to the ``harmonise`` group.
COMMAND_MODULES = (
    "harmonise.cli.run",
    "harmonise.cli.ingest",
    "harmonise.cli.samples",
    "harmonise.cli.report",
    "harmonise.cli.crosswalk",
    "harmonise.cli.provenance",
    "harmonise.cli.estimate",
    "harmonise.cli.suggest",
    "harmonise.cli.targets",
    "harmonise.cli.questionnaire",
    "harmonise.cli.questionnaire_plan",
    "harmonise.cli.web",
)

for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
