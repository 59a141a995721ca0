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


def test_public_names_resolve_to_their_modules() -> None:
    from picdup.pipeline import find_duplicates
    from picdup.report import write_report

    assert picdup.find_duplicates is find_duplicates
    assert picdup.write_report is write_report
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = picdup.nothing_here  # type: ignore[attr-defined]


def test_workers_and_the_script_import_little() -> None:
    # Every worker process imports the fingerprinting code (in the fork server) and the main
    # script again: neither may pull in the pipeline, actions, reports or command line, which
    # would cost each start of the workers about half a second of CPU.
    import json
    import subprocess
    import sys

    code = (
        "import json, sys, picdup.engine.local, picdup._entry; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('picdup'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    heavy = {"picdup.pipeline", "picdup.cli", "picdup.act", "picdup.report", "picdup.cache"}
    assert not loaded & heavy, loaded & heavy
