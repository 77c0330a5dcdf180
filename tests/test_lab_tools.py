"""``shopctl lab`` on a machine that lacks the lab's tools: an explanation, never a traceback.

Run in process against a lab prefix and state directory of the test's own, so a lab that the
lab tests keep running on this machine at the same time is neither seen nor touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.lab import system
from infra.lab import topology as topo
from shopd.cli import lab as cli_lab
from shopd.cli.main import app

HIDDEN = {"nft", "ip"}


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No nftables or iproute2 on this machine, and no lab of this test's name."""
    real = system.find_tool
    monkeypatch.setattr(system, "find_tool", lambda name: None if name in HIDDEN else real(name))
    empty = tmp_path / "bin"
    empty.mkdir()
    # So nothing finds the real binaries by PATH either.
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("SHOPD_LAB_DIR", str(tmp_path / "lab"))
    monkeypatch.setattr(topo, "PREFIX", f"shopd-test-{tmp_path.name[-8:]}-")
    yield


@pytest.mark.parametrize("command", ["status", "down"])
def test_lab_commands_without_nftables_explain_instead_of_crashing(
    bare_machine: None, command: str
) -> None:
    result = CliRunner().invoke(app, ["lab", command])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output
    assert ("the lab is down" if command == "status" else "lab down (0 things removed)") in (
        result.output
    )


def test_a_lab_tool_that_is_missing_names_its_package(bare_machine: None) -> None:
    with pytest.raises(system.LabError) as raised:
        system.run(["nft", "list", "ruleset"])
    assert str(raised.value) == "nft is not installed"
    assert raised.value.hint == "apt-get install nftables"


def test_lab_up_offers_to_install_what_is_missing(
    bare_machine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed: list[list[str]] = []
    monkeypatch.setattr(system, "install_packages", lambda packages: installed.append(packages))
    monkeypatch.setattr("os.geteuid", lambda: 0)
    # Without a terminal and without --install: says what to run, installs nothing.
    result = CliRunner().invoke(app, ["lab", "up"])
    assert result.exit_code == 1
    assert "iproute2 nftables" in result.output and "--install" in result.output
    assert installed == []
    # Asked on a terminal and answered no: still nothing installed.
    monkeypatch.setattr(cli_lab, "_interactive", lambda: True)
    result = CliRunner().invoke(app, ["lab", "up"], input="n\n")
    assert result.exit_code == 1 and installed == []
    assert "install the Debian packages iproute2 nftables now?" in result.output
