"""harmonise samples: regenerate the synthetic sample surveys."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path(),
              show_default=True, help="Project root to write surveys/ under.")
@click.option("--seed", type=int, default=20261125, show_default=True,
              help="Random seed; the same seed always gives the same data (the committed "
                   "samples use the default).")
def samples(root: Path, seed: int) -> None:
    """Regenerate the SYNTHETIC sample surveys, targets and known truth under surveys/.

    Example:

    \b
        harmonise samples --root .
    """
    from harmonise.synthetic import generate_all

    for path in generate_all(root, seed=seed):
        click.echo(str(path))


COMMANDS = [samples]
