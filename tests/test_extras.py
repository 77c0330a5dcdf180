"""The operator's tools come in extras: an app server installs only what serving needs, and a
command whose extra is missing says in one line which one to install (``shopd.cli.extras``)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from infra import lockfile
from shopd.cli.extras import EXTRAS

ROOT = Path(__file__).resolve().parent.parent
# Every module the extras bring, and those they pull in that shopd imports by name.
HIDDEN = ("pyinfra", "fabric", "invoke", "paramiko", "locust", "psutil", "matplotlib")
HIDE = f"import sys\nfor name in {HIDDEN!r}: sys.modules[name] = None\n"


def without_extras(code: str) -> subprocess.CompletedProcess[str]:
    """Python code run where no extra is installed: their modules fail to import."""
    return subprocess.run(
        [sys.executable, "-c", HIDE + code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


COMMANDS = [
    ("ops", "lab up", ""),
    ("ops", "lab status", ""),
    ("ops", "lab down", ""),
    ("ops", "deploy", ""),
    ("ops", "backup pull", ""),
    ("ops", "campaign check", "--visitors 100 --lab"),
    ("ops", "campaign check", "--visitors 100 --inventory inventory.toml"),
    ("loadtest", "loadtest run", ""),
    ("loadtest", "loadtest capacity", ""),
    ("reports", "report daily", "--out OUT"),
    ("reports", "report campaign", "--from 2026-01-01 --out OUT"),
]
SEPARATOR = "----- exit code "


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[int, list[str]]]]:
    """Each command's exit code and what it wrote to stderr, all run in one process (an import
    of shopctl costs a second of CPU)."""
    out = tmp_path_factory.mktemp("extras") / "out"
    runs = [
        [*command.split(), *options.replace("OUT", str(out)).split()]
        for _, command, options in COMMANDS
    ]
    done = without_extras(
        "from shopd.cli import app\n"
        f"for args in {runs!r}:\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as exc:\n"
        f"        print({SEPARATOR!r} + str(exc.code), file=sys.stderr, flush=True)\n"
    )
    assert done.returncode == 0, done.stderr
    results: list[tuple[int, list[str]]] = []
    lines: list[str] = []
    for line in done.stderr.splitlines():
        if line.startswith(SEPARATOR):
            results.append((int(line.removeprefix(SEPARATOR)), lines))
            lines = []
        else:
            lines.append(line)
    return out, results


@pytest.mark.parametrize(("extra", "command", "options"), COMMANDS)
def test_a_command_whose_extra_is_missing_names_it_in_one_line(
    extra: str, command: str, options: str, refusals: tuple[Path, list[tuple[int, list[str]]]]
) -> None:
    out, results = refusals
    code, stderr = results[COMMANDS.index((extra, command, options))]
    assert code == 1, stderr
    assert stderr == [
        f"error: shopctl {command} needs the {extra} extra → pip install 'shopd[{extra}]'"
    ]
    assert not out.exists()  # asked before any work


def test_shopctl_and_the_shop_start_where_no_extra_is_installed() -> None:
    """An app server runs shopctl serve, db upgrade and backup create, all from the base
    dependencies; every command's help shows without its extra."""
    helps = [
        ["--help"],
        ["lab", "up", "--help"],
        ["backup", "pull", "--help"],
        ["deploy", "--help"],
    ]
    done = without_extras(
        "import shopd.server.app, shopd.server.serving, shopd.cli.backup, backups.create\n"
        "from shopd.cli import app\n"
        f"for args in {helps!r}:\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, (args, exc.code)\n"
    )
    assert done.returncode == 0, done.stderr
    for command in ("serve", "backup", "deploy", "lab", "loadtest", "report", "--inventory"):
        assert command in done.stdout


def test_the_extras_are_the_operators_and_the_app_servers_lock_holds_none_of_them() -> None:
    extras = project()["optional-dependencies"]
    base = {Requirement(spec).name for spec in project()["dependencies"]}
    locked = set(lockfile.pins((ROOT / "requirements.lock").read_text()))
    for extra, modules in EXTRAS.items():
        packages = {Requirement(spec).name for spec in extras[extra]}
        # Each of these packages is imported under its own name.
        assert packages == set(modules), extra
        assert not packages & base and not packages & locked, extra
    assert {"shopd[ops,loadtest,reports]"} <= set(extras["test"])
