"""The deploy installs what requirements.lock pins, checked against its hashes (issue 12)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra import lockfile, wheels

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_lock_pins_every_dependency_with_hashes() -> None:
    assert lockfile.problems(ROOT) == []
    pins = lockfile.pins((ROOT / "requirements.lock").read_text())
    assert {"litestar", "sqlalchemy", "uvicorn", "uvloop", "asyncmy"} <= set(pins)
    assert all(hashes >= 1 for _, hashes in pins.values())


def small_project(root: Path, lock: str, dependency: str = "cachetools>=5") -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(
        "[build-system]\nrequires = ['setuptools>=69']\nbuild-backend = 'setuptools.build_meta'\n"
        f"[project]\nname = 'tiny'\nversion = '1'\ndependencies = ['{dependency}']\n"
        "[tool.setuptools]\npy-modules = []\n"
    )
    (root / "requirements.lock").write_text(lock)
    return root


def cachetools_pin() -> str:
    """cachetools' entry of the real lock: a small, pure-Python package."""
    text = (ROOT / "requirements.lock").read_text()
    return re.search(r"^cachetools==.*?(?=^\S)", text, re.M | re.S).group(0)  # type: ignore[union-attr]


def test_a_lock_that_does_not_fit_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    pin = cachetools_pin()
    version = pin.split("==")[1].split()[0]
    cases = {
        "cachetools is not pinned": small_project(tmp_path / "a", "", "cachetools>=5"),
        "does not meet": small_project(tmp_path / "b", pin, f"cachetools>{version}"),
        "has no hash": small_project(tmp_path / "c", f"cachetools=={version}\n", "cachetools>=5"),
    }
    for problem, root in cases.items():
        with pytest.raises(RuntimeError, match=problem) as refused:
            wheels._ensure_wheels(root)
        assert "./run lock" in str(refused.value)
        assert not (root / "var" / "wheels").exists() or not any(
            (root / "var" / "wheels").glob("*/.complete")
        )


def test_a_file_whose_hash_differs_from_the_lock_is_not_installed(tmp_path: Path) -> None:
    good = small_project(tmp_path / "good", cachetools_pin())
    built, _ = wheels._ensure_wheels(good)
    assert any(built.glob("cachetools-*.whl")) and any(built.glob("tiny-1-*.whl"))
    assert (built / "requirements.lock").read_text() == cachetools_pin()

    forged = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, cachetools_pin())
    bad = small_project(tmp_path / "bad", forged)
    with pytest.raises(RuntimeError, match=r"(?i)hash"):
        wheels._ensure_wheels(bad)
