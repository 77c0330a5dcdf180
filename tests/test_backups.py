"""Backups on SQLite and the real MariaDB: create → verify → restore, corruption, PITR, retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backups import remote, retention, store
from backups.create import create
from backups.database import BackupError, Database
from backups.verify import verify
from tests.backupkit import (
    BinlogServer,
    binlog_mariadb,
    order_numbers,
    place_orders,
    rows_of,
    seed_shop,
)
from tests.conftest import Backend, missing_prerequisite
from tests.server import SHOPCTL, shopctl


@pytest.fixture
def shop(backend: Backend, tmp_path: Path) -> str:
    """A migrated demo shop with a few orders, on each back end; returns its URL."""
    seed_shop(backend.url, tmp_path)
    asyncio.run(place_orders(backend.url, tmp_path, 5))
    return backend.url


@pytest.fixture(scope="module")
def demo_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded SQLite shop per module; tests take copies (seeding costs seconds)."""
    folder = tmp_path_factory.mktemp("demo")
    seed_shop(f"sqlite:///{folder / 'shop.sqlite3'}", folder)
    return folder / "shop.sqlite3"


@pytest.fixture
def sqlite_shop(demo_sqlite: Path, tmp_path: Path) -> str:
    copy = tmp_path / "shop.sqlite3"
    shutil.copyfile(demo_sqlite, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def scratch(backend: Backend) -> list[str]:
    if backend.name == "mysql":
        return ["--scratch", backend.url]
    return []


def backup(*args: str, directory: Path, db: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"SHOPD_BACKUP_DIR": str(directory)}
    if db:
        env["SHOPD_DATABASE_URL"] = db
    return shopctl("backup", *args, env=env)


def listed(directory: Path) -> list[dict]:
    done = backup("list", "--json", directory=directory)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def target_url(backend: Backend, tmp_path: Path, name: str) -> str:
    if backend.name == "sqlite":
        return f"sqlite:///{tmp_path / (name + '.sqlite3')}"
    return Database.from_url(backend.url).named(backend.url.rsplit("/", 1)[1][:40] + name).label


@pytest.fixture
def cleanup_targets(backend: Backend) -> Iterator[list[str]]:
    urls: list[str] = []
    yield urls
    for url in urls:
        Database.from_url(url).drop()


def test_create_verify_restore_gives_identical_rows(
    shop: str,
    backend: Backend,
    tmp_path: Path,
    scratch: list[str],
    cleanup_targets: list[str],
) -> None:
    folder = tmp_path / "backups"
    made = backup("create", "--verify", *scratch, directory=folder, db=shop)
    assert made.returncode == 0, made.stderr + made.stdout
    assert "verified" in made.stdout
    [entry] = listed(folder)
    assert entry["status"] == "verified"
    assert entry["tables"]["orders"] == 5 and entry["tables"]["order_lines"] == 10
    assert entry["schema_version"] and entry["rows_total"] > 500
    data = folder / entry["file"]
    assert store.sha256_file(data) == entry["sha256"] and data.stat().st_size == entry["size"]
    assert data.stat().st_mode & 0o077 == 0, "backups hold customer data: owner only"
    assert data.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # zstd frame magic

    target = target_url(backend, tmp_path, "_restored")
    cleanup_targets.append(target)
    restored = backup("restore", entry["id"], "--to", target, directory=folder)
    assert restored.returncode == 0, restored.stderr + restored.stdout
    assert rows_of(Database.from_url(target)) == rows_of(Database.from_url(shop))

    table = backup("list", directory=folder)
    assert entry["id"] in table.stdout and "verified" in table.stdout


def test_restore_refuses_a_non_empty_database_without_force(
    shop: str, backend: Backend, tmp_path: Path, cleanup_targets: list[str]
) -> None:
    folder = tmp_path / "backups"
    assert backup("create", directory=folder, db=shop).returncode == 0
    target = target_url(backend, tmp_path, "_busy")
    cleanup_targets.append(target)
    assert backup("restore", "latest", "--to", target, directory=folder).returncode == 0
    busy = Database.from_url(target)
    statement = "UPDATE orders SET email = 'changed@example.com'"
    if busy.kind == "sqlite":
        with sqlite3.connect(busy.name) as con:
            con.execute(statement)
    else:
        busy.sql(statement, busy.name)
    before = rows_of(busy)

    refused = backup("restore", "latest", "--to", target, directory=folder)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert rows_of(busy) == before, "a refused restore changed the target"

    forced = backup("restore", "latest", "--to", target, "--force", directory=folder)
    assert forced.returncode == 0, forced.stderr
    assert rows_of(busy) == rows_of(Database.from_url(shop))
    # What the target held is kept aside, not dropped, and named for the operator.
    kept_label = re.search(r"is kept as (\S+);", " ".join(forced.stdout.split()))
    assert kept_label, forced.stdout
    kept = Database.from_url(kept_label.group(1))
    cleanup_targets.append(kept.label)
    assert rows_of(kept) == before


def test_flipped_byte_and_truncated_file_are_caught(
    shop: str, tmp_path: Path, scratch: list[str]
) -> None:
    folder = tmp_path / "backups"
    assert backup("create", directory=folder, db=shop).returncode == 0
    [entry] = listed(folder)
    data = folder / entry["file"]
    good = data.read_bytes()

    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x01
    data.write_bytes(bytes(flipped))
    bad = backup("verify", *scratch, directory=folder)
    assert bad.returncode == 1
    assert entry["file"] in bad.stderr and "SHA-256 mismatch" in bad.stderr
    assert listed(folder)[0]["status"] == "FAILED"

    data.write_bytes(good[: len(good) * 2 // 3])
    short = backup("verify", *scratch, directory=folder)
    assert short.returncode == 1 and "truncated" in short.stderr and entry["file"] in short.stderr

    # Even when someone rewrote the manifest to match, the damaged stream itself is caught.
    manifest = store.manifest_path(folder, entry["id"])
    original = manifest.read_text()
    forged = json.loads(original)
    forged.update(size=data.stat().st_size, sha256=store.sha256_file(data))
    manifest.write_text(json.dumps(store.sealed(forged)))
    deep = backup("verify", *scratch, directory=folder)
    assert deep.returncode == 1 and "corrupt or truncated" in deep.stderr

    data.write_bytes(good)
    manifest.write_text(original)
    again = backup("verify", *scratch, directory=folder)
    assert again.returncode == 0, again.stderr
    assert listed(folder)[0]["status"] == "verified"


def test_a_flip_before_the_file_is_hashed_is_caught(
    shop: str, tmp_path: Path, scratch: list[str]
) -> None:
    # The manifest's SHA-256 is of the damaged file, as when the flip happened before hashing:
    # only the zstd frame's own checksum of the uncompressed dump can tell.
    folder = tmp_path / "backups"
    assert backup("create", directory=folder, db=shop).returncode == 0
    [entry] = listed(folder)
    data = folder / entry["file"]
    good = data.read_bytes()
    manifest = store.manifest_path(folder, entry["id"])
    original = json.loads(manifest.read_text())
    for at in (0.3, 0.5, 0.7, 0.9):
        flipped = bytearray(good)
        flipped[int(len(good) * at)] ^= 0x04
        data.write_bytes(bytes(flipped))
        manifest.write_text(
            json.dumps(store.sealed({**original, "sha256": store.sha256_file(data)}))
        )
        bad = backup("verify", *scratch, directory=folder)
        assert bad.returncode == 1, (at, bad.stdout)
        assert "corrupt" in bad.stderr, bad.stderr


def test_a_torn_or_edited_manifest_is_named_not_skipped(sqlite_shop: str, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    for _ in range(2):
        assert backup("create", directory=folder, db=sqlite_shop).returncode == 0
        time.sleep(1.1)  # ids are per second
    first, second = listed(folder)
    torn = store.manifest_path(folder, first["id"])
    torn.write_text(torn.read_text()[: len(torn.read_text()) // 2])
    edited = store.manifest_path(folder, second["id"])
    changed = json.loads(edited.read_text())
    changed["rows_total"] += 1
    edited.write_text(json.dumps(changed))

    shown = backup("list", directory=folder)
    assert f"damaged manifest {torn.name}" in shown.stderr
    assert f"damaged manifest {edited.name}" in " ".join(shown.stderr.split())
    assert "checksum does not match" in " ".join(shown.stderr.split())
    assert {e.get("manifest"): e["status"] for e in listed(folder)} == {
        torn.name: "DAMAGED",
        edited.name: "DAMAGED",
    }
    checked = backup("verify", "--all", directory=folder)
    assert checked.returncode == 1 and torn.name in checked.stderr


def test_a_torn_manifest_on_a_host_is_one_failure_not_the_whole_pull(tmp_path: Path) -> None:
    good = {
        "format": store.MANIFEST_FORMAT,
        "id": "20261207T100000Z-shopd",
        "created_at": "2026-12-07T10:00:00+00:00",
        "file": "20261207T100000Z-shopd.sql.zst",
        "size": 10,
        "sha256": "0" * 64,
        "kind": "mysql",
        "tables": {},
    }
    (tmp_path / "a.manifest.json").write_text('{"format": 1, "id": "20261206')
    (tmp_path / "b.manifest.json").write_text(json.dumps(store.sealed(good)))
    listing = subprocess.run(
        remote.listing_command(str(tmp_path)), shell=True, capture_output=True, check=True
    )
    found, damaged = remote.parse_listing(listing.stdout)
    assert [m["id"] for m in found] == [good["id"]]
    assert [d.path.name for d in damaged] == ["a.manifest.json"]
    assert "unreadable" in damaged[0].problem


def test_verify_names_a_broken_stock_ledger(shop: str, tmp_path: Path, scratch: list[str]) -> None:
    source = Database.from_url(shop)
    sku = source.query("SELECT sku_id FROM stock_levels WHERE on_hand > 0 ORDER BY sku_id")[0][0]
    statement = f"UPDATE stock_levels SET on_hand = on_hand + 1 WHERE sku_id = {sku}"
    if source.kind == "sqlite":
        with sqlite3.connect(source.name) as con:
            con.execute(statement)
    else:
        source.sql(statement, source.name)
    folder = tmp_path / "backups"
    assert backup("create", directory=folder, db=shop).returncode == 0
    checked = backup("verify", *scratch, directory=folder)
    assert checked.returncode == 1
    assert "stock ledger sums to on-hand: 1 SKUs" in checked.stderr


def test_backup_taken_during_checkouts_restores_consistent(
    shop: str, backend: Backend, tmp_path: Path
) -> None:
    source = Database.from_url(shop)
    folder = tmp_path / "backups"
    before = len(order_numbers(source))

    async def rush() -> list[store.Backup]:
        buying = asyncio.ensure_future(place_orders(shop, tmp_path, 60, concurrency=6))
        taken = []
        while not buying.done() or not taken:
            taken.append(await asyncio.to_thread(create, source, folder))
        await buying
        return taken

    taken = asyncio.run(rush())
    after = len(order_numbers(source))
    assert after == before + 60
    server = source if backend.name == "mysql" else None
    counts = []
    for b in taken:
        result = verify(b, server)
        assert result["ok"], result["problems"]
        counts.append(b.manifest["tables"]["orders"])
    assert any(before < c < after for c in counts), (
        f"no backup was taken while orders were coming in: {counts}"
    )


@pytest.fixture(scope="module")
def binlog_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BinlogServer]:
    try:
        with binlog_mariadb(tmp_path_factory.mktemp("binlog-mariadb")) as server:
            yield server
    except RuntimeError as exc:
        missing_prerequisite(str(exc))


@pytest.mark.mysql
def test_point_in_time_restore_replays_the_binary_log_up_to_a_time(
    binlog_server: BinlogServer, tmp_path: Path
) -> None:
    admin = Database.from_url(binlog_server.url())
    admin.sql("CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    shop = binlog_server.url("shop")
    seed_shop(shop, tmp_path)
    early = asyncio.run(place_orders(shop, tmp_path, 3))
    folder = tmp_path / "backups"
    made = backup("create", "--verify", directory=folder, db=shop)
    assert made.returncode == 0, made.stderr
    [entry] = listed(folder)
    assert entry["binlog"]["file"].startswith("binlog.") and entry["binlog"]["position"] > 0

    kept = asyncio.run(place_orders(shop, tmp_path, 4))
    time.sleep(1.1)  # the binary log counts whole seconds
    cut = dt.datetime.now(dt.UTC).replace(microsecond=0)
    time.sleep(1.1)
    lost = asyncio.run(place_orders(shop, tmp_path, 2))

    too_early = backup(
        "restore", "latest", "--to", binlog_server.url("too_early"),
        "--until", (dt.datetime.fromisoformat(entry["created_at"]) - dt.timedelta(hours=1)).isoformat(),
        directory=folder, db=shop,
    )  # fmt: skip
    assert too_early.returncode == 1 and "restore an older backup" in too_early.stderr

    restored = backup(
        "restore", "latest", "--to", binlog_server.url("shop_pitr"),
        "--until", cut.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat(),
        directory=folder, db=shop,
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    numbers = order_numbers(Database.from_url(binlog_server.url("shop_pitr")))
    assert set(early) | set(kept) == numbers
    assert not set(lost) & numbers

    check = Database.from_url(binlog_server.url("shop_pitr"))
    from backups.checks import integrity_problems

    assert integrity_problems(check) == []
    plain = backup("restore", "latest", "--to", binlog_server.url("shop_plain"), directory=folder)
    assert plain.returncode == 0, plain.stderr
    assert order_numbers(Database.from_url(binlog_server.url("shop_plain"))) == set(early)


def test_a_killed_backup_leaves_earlier_backups_and_no_half_backup(
    tmp_path: Path, sqlite_shop: str
) -> None:
    db = Path(Database.from_url(sqlite_shop).name)
    folder = tmp_path / "backups"
    assert backup("create", directory=folder, db=f"sqlite:///{db}").returncode == 0
    with sqlite3.connect(db) as con:
        # Incompressible bulk, so the next backup takes long enough to be killed halfway.
        con.execute("CREATE TABLE ballast (b BLOB)")
        con.executemany(
            "INSERT INTO ballast VALUES (?)", ((os.urandom(1 << 20),) for _ in range(150))
        )
    proc = subprocess.Popen(
        [SHOPCTL, "backup", "create"],
        env={
            **os.environ,
            "SHOPD_BACKUP_DIR": str(folder),
            "SHOPD_DATABASE_URL": f"sqlite:///{db}",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size > (1 << 20) for p in folder.glob("*.part")):
        assert proc.poll() is None, "the backup finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    [entry] = listed(folder)
    assert "ballast" not in entry["tables"]
    assert store.partial_files(folder)
    table = backup("list", directory=folder)
    assert "unfinished" in table.stdout
    assert backup("verify", "latest", directory=folder).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A backup target of its own that fills up: a 4 MiB tmpfs (mounting needs root)."""
    if os.geteuid() != 0:
        missing_prerequisite("a small backup disk (tmpfs) needs root")
    folder = tmp_path / "small-disk"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Take whatever space is left."""
    filler = folder / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_backup_disk_fails_loudly_and_keeps_the_earlier_backups(
    shop: str, scratch: list[str], small_disk: Path
) -> None:
    first = backup("create", "--verify", *scratch, directory=small_disk, db=shop)
    assert first.returncode == 0, first.stderr
    filler = fill(small_disk)
    second = backup("create", directory=small_disk, db=shop)
    assert second.returncode == 1
    assert "No space left on device" in second.stderr and "Traceback" not in second.stderr
    filler.unlink()
    # Nothing half-written is left, and the earlier backup is still whole and proven.
    assert store.partial_files(small_disk) == []
    assert not list(small_disk.glob(".snapshot-*"))
    [entry] = listed(small_disk)
    assert entry["status"] == "verified"
    assert backup("verify", "latest", *scratch, directory=small_disk).returncode == 0


def _fake(folder: Path, when: dt.datetime, verified: bool = False) -> store.Backup:
    backup_id = when.strftime("%Y%m%dT%H%M%SZ-shop")
    data = folder / f"{backup_id}.sqlite.zst"
    data.write_bytes(b"x")
    manifest = {
        "format": store.MANIFEST_FORMAT,
        "id": backup_id,
        "created_at": when.isoformat(),
        "file": data.name,
        "size": 1,
        "sha256": store.sha256_file(data),
        "kind": "sqlite",
        "tables": {},
        "rows_total": 0,
        "binlog": None,
    }
    store.write_json(store.manifest_path(folder, backup_id), manifest)
    b = store.Backup(folder, manifest, None)
    if verified:
        store.record_verification(
            b, {"ok": True, "sha256": manifest["sha256"], "checked_at": when.isoformat()}
        )
    return b


def test_retention_keeps_days_weeks_months_and_the_newest_verified(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)
    # A year of nightly backups; only one, long ago, was ever verified.
    for day in range(365):
        _fake(tmp_path, now - dt.timedelta(days=day), verified=(day == 300))
    plan = retention.plan(
        store.load(tmp_path), retention.Policy(last=3, daily=7, weekly=4, monthly=6)
    )
    kept = {dt.datetime.strptime(i[:16], "%Y%m%dT%H%M%SZ").date() for i in plan.keep}
    days = [(now - dt.timedelta(days=d)).date() for d in range(365)]
    assert set(days[:7]) <= kept  # 7 daily (covering the 3 last)
    assert days[300] in kept  # the only verified backup survives any policy
    weeks = {d.isocalendar()[:2] for d in kept}
    months = {(d.year, d.month) for d in kept}
    assert len(weeks) >= 4 and len(months) == 7  # 6 monthly + the verified one's month
    assert len(plan.keep) <= 3 + 7 + 4 + 6 + 1
    assert len(plan.keep) + len(plan.drop) == 365

    dry = backup("prune", "--dry-run", directory=tmp_path)
    assert dry.returncode == 0 and f"would delete {len(plan.drop)}" in dry.stdout
    assert len(store.load(tmp_path)) == 365
    done = backup("prune", directory=tmp_path)
    assert done.returncode == 0, done.stderr
    left = store.load(tmp_path)
    assert {b.id for b in left} == set(plan.keep)
    assert len(list(tmp_path.glob("*.sqlite.zst"))) == len(left), "data files outlived manifests"


@pytest.fixture
def age_key(tmp_path: Path) -> tuple[Path, str]:
    if shutil.which("age-keygen") is None:
        missing_prerequisite("age is not installed (apt-get install age)")
    key = tmp_path / "backup.agekey"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    public = next(
        line.split(": ")[1] for line in key.read_text().splitlines() if "public key" in line
    )
    return key, public


def test_encrypted_backups_need_the_key_kept_elsewhere(
    tmp_path: Path, age_key: tuple[Path, str], sqlite_shop: str
) -> None:
    key, public = age_key
    url = sqlite_shop
    folder = tmp_path / "backups"
    made = backup("create", "--encrypt-to", public, directory=folder, db=url)
    assert made.returncode == 0, made.stderr
    [entry] = listed(folder)
    assert entry["file"].endswith(".sqlite.zst.age") and entry["encrypted_to"] == [public]
    assert (folder / entry["file"]).read_bytes().startswith(b"age-encryption.org/v1")
    blind = backup("verify", directory=folder)
    assert blind.returncode == 1 and "--identity" in blind.stderr
    seen = backup("verify", "--identity", str(key), directory=folder)
    assert seen.returncode == 0, seen.stderr
    target = tmp_path / "restored.sqlite3"
    done = backup(
        "restore", "latest", "--to", f"sqlite:///{target}", "--identity", str(key), directory=folder
    )
    assert done.returncode == 0, done.stderr
    assert rows_of(Database.from_url(f"sqlite:///{target}")) == rows_of(Database.from_url(url))


def test_metrics_file_shows_success_and_failure(tmp_path: Path, sqlite_shop: str) -> None:
    url = sqlite_shop
    folder, metrics = tmp_path / "backups", tmp_path / "textfile" / "shopd_backup.prom"
    ok = backup("create", "--verify", "--metrics", str(metrics), directory=folder, db=url)
    assert ok.returncode == 0, ok.stderr
    text = metrics.read_text()
    assert "shopd_backup_last_run_ok 1.0" in text and "shopd_backup_count 1.0" in text
    broken = backup(
        "create",
        "--metrics",
        str(metrics),
        directory=folder,
        db=f"sqlite:///{tmp_path / 'gone.db'}",
    )
    assert broken.returncode == 1 and "no SQLite database" in broken.stderr
    text = metrics.read_text()
    assert "shopd_backup_last_run_ok 0.0" in text
    assert "shopd_backup_last_verified_timestamp_seconds 0.0" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("restore", "latest", "--to", "nonsense"), "not a database URL"),
        (("restore", "nope", "--to", "sqlite:////tmp/x.db"), "no backup 'nope'"),
        (("restore", "latest", "--to", "mysql://root@127.0.0.1/bad;name"), "not allowed"),
        (
            ("restore", "latest", "--to", "sqlite:////tmp/x.db", "--until", "yesterday"),
            "not a time",
        ),
        (
            ("restore", "latest", "--to", "sqlite:////tmp/x.db", "--until", "2026-01-01T00:00:00"),
            "SQLite has none",
        ),
        (("verify", "nope"), "no backup 'nope'"),
    ],
)
def test_bad_input_gets_a_clear_error(
    tmp_path: Path, sqlite_shop: str, args: tuple[str, ...], message: str
) -> None:
    url = sqlite_shop
    folder = tmp_path / "backups"
    assert backup("create", directory=folder, db=url).returncode == 0
    done = backup(*args, directory=folder)
    assert done.returncode == 1, done.stdout
    assert message in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_database_urls_are_checked() -> None:
    with pytest.raises(BackupError, match="not allowed"):
        Database.from_url("mysql://root@localhost/shop`; DROP")
    with pytest.raises(BackupError, match="needs a file"):
        Database.from_url("sqlite://")
    assert Database.from_url("mysql+asyncmy://u:p%40ss@db:3307/shop").password == "p@ss"
