"""A rolling deploy never leaves nginx without an app server to send to (no hosts needed; the
lab's two-server rolling deploy under load is in tests/test_lab_shop.py)."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest
from typer.testing import CliRunner

from shopd.cli import app
from shopd.cli import deploy as deploy_cli

ROOT = Path(__file__).resolve().parent.parent
UPSTREAMS = ["10.78.0.11:8000", "10.78.0.12:8000"]


def servers_down(upstreams: list[str], drained: list[str]) -> dict[str, bool]:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "infra" / "templates"))
    text = env.get_template("nginx-shopd.conf.j2").render(
        upstreams=upstreams,
        drained=drained,
        static="/srv/static/",
        cert="/etc/shopd/tls/cert.pem",
        key="/etc/shopd/tls/key.pem",
        admin_network="10.77.0.0/24",
    )
    found = re.findall(r"^\s*server (\S+) [^;]*?( down)?;$", text, re.M)
    return {address: bool(down) for address, down in found}


def test_a_drained_server_is_down_while_another_serves() -> None:
    assert servers_down(UPSTREAMS, [UPSTREAMS[0]]) == {UPSTREAMS[0]: True, UPSTREAMS[1]: False}


@pytest.mark.parametrize(
    ("upstreams", "drained"), [(UPSTREAMS[:1], UPSTREAMS[:1]), (UPSTREAMS, UPSTREAMS)]
)
def test_every_server_drained_leaves_them_all_up(upstreams: list[str], drained: list[str]) -> None:
    # All down is a 502 for every customer: worse than sending to a server that is updating.
    assert servers_down(upstreams, drained) == dict.fromkeys(upstreams, False)


def test_a_rolling_deploy_with_one_app_server_updates_it_in_place(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runs: list[tuple[list[str], str]] = []
    monkeypatch.setattr(
        deploy_cli, "_run_pyinfra", lambda extra, env, log, dry, what: runs.append((extra, what))
    )
    monkeypatch.setattr(deploy_cli, "ensure_wheels", lambda: ([], "r1"))
    monkeypatch.setenv("SHOPD_INVENTORY", str(ROOT / "inventory.example.toml"))
    result = CliRunner().invoke(app, ["deploy", "--rolling", "--log", str(tmp_path / "deploy.log")])
    assert result.exit_code == 0, result.output
    assert "only app server" in result.output
    assert runs == [
        (["--limit", "app1", "--data", "restart=yes"], "updating app1"),
        ([], "the rest of the site"),
    ]
    assert not any("drained" in " ".join(extra) for extra, _ in runs)
