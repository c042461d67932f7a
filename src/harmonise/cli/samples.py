"""harmonise samples: regenerate the synthetic sample surveys."""

from __future__ import annotations

from pathlib import Path

import click

from harmonise.cli.root import project_root, root_option


@click.command()
@root_option("Project root to write surveys/ under")
@click.option("--seed", type=int, default=20261125, show_default=True,
              help="Random seed; the same seed always gives the same data (the committed "
                   "samples use the default).")
def samples(root: Path | None, seed: int) -> None:
    """Regenerate the SYNTHETIC sample surveys, targets and known truth under surveys/.

    Example:

    \b
        harmonise samples --root .
    """
    from harmonise.synthetic import generate_all

    for path in generate_all(project_root(root), seed=seed):
        click.echo(str(path))


COMMANDS = [samples]
