"""The public surface: names in __all__ exist, and every command documents itself."""

from __future__ import annotations

import click
import pytest

import picdup
from picdup.cli import cli


def test_all_names_exist() -> None:
    for name in picdup.__all__:
        assert hasattr(picdup, name), name
    assert sorted(picdup.__all__) == sorted(set(picdup.__all__))


def test_no_private_names_exported() -> None:
    assert all(not n.startswith("_") or n == "__version__" for n in picdup.__all__)


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, cmd in group.commands.items():
        out.append((prefix + name, cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, prefix + name + " ")
    return out


@pytest.mark.parametrize("name,command", _commands(cli), ids=lambda v: str(v))
def test_every_command_has_help_and_an_example(name: str, command: click.Command) -> None:
    assert command.help, f"{name} has no help text"
    text = (command.help or "") + (command.epilog or "")
    assert "Example" in text, f"{name} has no example in its help"
    assert f"picdup {name}" in text, f"{name}'s example does not show the command"


def test_main_help_lists_commands(run_cli) -> None:
    res = run_cli("--help")
    assert res.returncode == 0
    for name in cli.commands:
        assert name in res.stdout
