"""The shop deployed on bare lab hosts (marker ``lab``): MariaDB on db1, shopd on app1 and app2
behind nginx, the staff login — checked from the internet side through the router.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import paramiko
import pytest

from backups import store
from backups.checks import integrity_problems
from backups.database import Database
from infra.deploys.db import APP_PRIVILEGES, APP_USER, BACKUP_PRIVILEGES, BACKUP_USER, DATABASE
from infra.lab import lab, network
from infra.remote import connect
from loadtest.capacity import save_result
from loadtest.results import Thresholds
from tests.conftest import ADDRESS, mysql_url
from tests.labkit import deploy, from_ns, nothing_left, on, shopctl
from tests.server import shopctl as shopctl_with

pytestmark = pytest.mark.lab

EDGE_WAN = "198.51.100.2"
SHOPPER = str(Path(__file__).with_name("data") / "lab_shopper.py")
LOAD = str(Path(__file__).with_name("data") / "lab_load.py")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[>=]")
STAFF_PASSWORD = "lab-staff-pass-1"


def _on_app(command: str) -> str:
    """A shopctl command on app1 with the deployed configuration, as root."""
    return on(
        "app1", f"set -a && . /etc/shopd/shopd.env && /opt/shopd/current/bin/{command}"
    ).stdout


@pytest.fixture(scope="module")
def shop(lab_deployed: dict) -> dict:
    _on_app("shopctl db seed-demo --products 24")
    added = on(
        "app1",
        f"echo {STAFF_PASSWORD} | sh -c 'set -a && . /etc/shopd/shopd.env && "
        "/opt/shopd/current/bin/shopctl staff add labstaff --role manager --password-stdin'",
        warn=True,
    )
    assert added.ok or "exists already" in added.stderr, added.stderr
    placed = from_ns("client", sys.executable, SHOPPER, f"https://{EDGE_WAN}", json.dumps(ADDRESS))
    assert placed.returncode == 0, placed.stderr
    return json.loads(placed.stdout)


def _wan_get(path: str, header: str = "content-type") -> tuple[int, str, str]:
    """Status, one header (empty when absent) and the text of a GET from the internet."""
    code = (
        f"import httpx; r = httpx.get('https://{EDGE_WAN}{path}', verify=False, timeout=10); "
        f"print(r.status_code); print(r.headers.get({header!r}, '')); print(r.text)"
    )
    reply = from_ns("client", sys.executable, "-c", code)
    status, _, rest = reply.stdout.partition("\n")
    value, _, body = rest.partition("\n")
    return int(status or 0), value, body


def test_storefront_answers_over_https_from_the_internet(shop: dict) -> None:
    status, encoding, body = _wan_get("/", "content-encoding")
    assert status == 200 and "<html" in body.lower()
    # Compressed by nginx; the app server itself sends it as it is (SHOPD_GZIP_LEVEL=0).
    assert encoding == "gzip"
    direct = on(
        "app1", "curl -fsS -D - -o /dev/null -H 'Accept-Encoding: gzip' http://127.0.0.1:8000/"
    )
    assert "content-encoding" not in direct.stdout.lower(), direct.stdout
    # nginx serves the static files itself, straight from the release.
    css = re.findall(r'href="(/static/[^"]+\.css)', body)
    assert css, "the storefront links no stylesheet"
    assert _wan_get(css[0])[0] == 200
    # nginx logs paths without their query strings (reset tokens, searches).
    assert _wan_get("/search?q=lab-private-words")[0] == 200
    logged = on("app1", "cat /var/log/nginx/access.log").stdout
    assert '"GET /search HTTP/' in logged and "lab-private-words" not in logged


def test_an_order_from_the_internet_reaches_staff_and_mariadb(shop: dict) -> None:
    number = shop["number"]
    login = on(
        "app1",
        "curl -fsS -H 'Content-Type: application/json' -d "
        f'\'{{"username": "labstaff", "password": "{STAFF_PASSWORD}"}}\' '
        "http://127.0.0.1:8000/api/v1/staff/session",
    ).stdout
    token = json.loads(login)["token"]
    order = on(
        "app1",
        f"curl -fsS -H 'Authorization: Bearer {token}' http://127.0.0.1:8000/api/v1/staff/orders/{number}",
    ).stdout
    assert json.loads(order)["number"] == number
    rows = on("db1", f'mariadb -N -e "SELECT number FROM {DATABASE}.orders"').stdout.split()
    assert number in rows


def _privileges(grants: str, on_what: str) -> set[str]:
    """The privileges of the GRANT line on ``on_what`` (MariaDB lists them in its own order)."""
    for line in grants.splitlines():
        what = re.match(r"GRANT (.+) ON (\S+) TO ", line)
        if what and what[2] == on_what and what[1] != "USAGE":
            return set(what[1].split(", "))
    return set()


def test_replica_follows_the_primary_and_its_health_is_watched(shop: dict) -> None:
    query = f'mariadb -N -e "SELECT number FROM {DATABASE}.orders"'
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and shop["number"] not in on("db2", query).stdout:
        time.sleep(0.5)
    assert shop["number"] in on("db2", query).stdout
    status = on("db2", "mariadb -e 'SHOW SLAVE STATUS\\G'").stdout
    for line in ("Slave_IO_Running: Yes", "Slave_SQL_Running: Yes", "Using_Gtid: Slave_Pos"):
        assert line in status
    assert on("db2", "mariadb -N -e 'SELECT @@read_only'").stdout.strip() == "1"
    assert (
        on("db2", "systemctl is-enabled shopd-replication-check.timer").stdout.strip() == "enabled"
    )
    on("db2", "systemctl start shopd-replication-check.service")
    assert "io=Yes sql=Yes lag=0" in on("db2", "cat /var/lib/shopd-replication/status").stdout
    assert (
        "shopd_replication_running 1"
        in on("db2", "cat /var/lib/shopd-replication/metrics.prom").stdout
    )
    # A stopped replication thread is a failed unit and an error in the journal.
    on("db2", "mariadb -e 'STOP SLAVE SQL_THREAD'")
    try:
        assert not on("db2", "systemctl start shopd-replication-check.service", warn=True).ok
        journal = on("db2", "journalctl -t shopd-replication --no-pager").stdout
        assert "replica unhealthy: io=Yes sql=No" in journal
    finally:
        on("db2", "mariadb -e 'START SLAVE'")


def test_mariadb_users_have_only_their_privileges(shop: dict) -> None:
    grants = on("db1", f"mariadb -N -e \"SHOW GRANTS FOR '{APP_USER}'@'10.78.0.11'\"").stdout
    assert _privileges(grants, f"`{DATABASE}`.*") == set(APP_PRIVILEGES.split(", "))
    assert "ALL PRIVILEGES" not in grants and " ON *.*" not in grants.replace("USAGE ON *.*", "")
    backup = on("db1", f"mariadb -N -e \"SHOW GRANTS FOR '{BACKUP_USER}'@'localhost'\"").stdout
    assert _privileges(backup, "*.*") == set(BACKUP_PRIVILEGES.split(", "))
    users = on(
        "db1", "mariadb -N -e \"SELECT CONCAT(User, '@', Host) FROM mysql.user\""
    ).stdout.split()
    assert not [
        u
        for u in users
        if u.startswith("@") or (u.startswith("root@") and u not in {"root@localhost"})
    ]
    assert "test" not in on("db1", "mariadb -N -e 'SHOW DATABASES'").stdout.split()
    # The app user from anywhere but an app server: refused by MariaDB itself (db1 is not one).
    password = re.search(r"shopd_app:([^@]+)@", on("app1", "cat /etc/shopd/shopd.env").stdout)[1]
    refused = on(
        "db1",
        f"MYSQL_PWD={password} mariadb -h 10.78.0.21 -u {APP_USER} -e 'SELECT 1'",
        warn=True,
    )
    assert not refused.ok and "is not allowed to connect" in refused.stderr
    assert "bind-address" in on("db1", "my_print_defaults mariadbd").stdout.replace("_", "-")


def test_secrets_are_not_in_process_lists_or_readable(shop: dict) -> None:
    password = re.search(r"shopd_app:([^@]+)@", on("app1", "cat /etc/shopd/shopd.env").stdout)[1]
    for host in ("app1", "db1"):
        assert password not in on(host, "ps -eo args").stdout
    assert on("app1", "stat -c '%a %U' /etc/shopd/shopd.env").stdout.split() == ["600", "root"]
    assert on("db1", "stat -c '%a' /etc/mysql/shopd-users.sql").stdout.strip() == "600"


def test_app_unit_is_hardened_and_sized(shop: dict) -> None:
    show = on(
        "app1", "systemctl show shopd -p User -p NoNewPrivileges -p ProtectSystem -p PrivateTmp"
    ).stdout
    assert {"User=shopd", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes"} <= set(
        show.split()
    )
    assert "--workers 2" in on("app1", "systemctl show shopd -p ExecStart").stdout


def _staff_client() -> paramiko.SSHClient:
    """An SSH connection as staff to app1, with the lab's pinned host keys."""
    conn = connect(
        "10.77.0.11",
        user="staff",
        key=lab.staff_key_path(),
        known_hosts=lab.known_hosts_path(),
        timeout=10,
    )
    conn.open()
    return conn.client


def _staff_session(command: str, keys: str = "", wait: float = 12) -> str:
    client = _staff_client()
    try:
        channel = client.get_transport().open_session()
        channel.get_pty(term="xterm-256color", width=110, height=32)
        channel.exec_command(command)
        screen = ""
        deadline = time.monotonic() + wait
        sent = False
        while time.monotonic() < deadline:
            if channel.recv_ready():
                screen += channel.recv(65536).decode(errors="replace")
            elif keys and not sent and "staff log-in" in ANSI.sub("", screen):
                time.sleep(1)
                for key in keys:
                    channel.send(key)
                    time.sleep(0.05)
                sent = True
            else:
                time.sleep(0.1)
        channel.send("q")
        return ANSI.sub("", screen)
    finally:
        client.close()


def test_staff_ssh_opens_the_tui_and_no_shell(shop: dict) -> None:
    # Whatever command staff ask for, the TUI answers: log in and see the order.
    screen = _staff_session(
        "cat /etc/shopd/shopd.env",
        keys=f"labstaff\t{STAFF_PASSWORD}\r",
        wait=20,
    )
    assert "staff log-in" in screen
    assert "SHOPD_DATABASE_URL" not in screen
    assert shop["number"] in screen
    # No forwarding either.
    client = _staff_client()
    try:
        with pytest.raises(paramiko.ChannelException):
            client.get_transport().open_channel(
                "direct-tcpip", ("10.78.0.21", 3306), ("127.0.0.1", 0)
            )
    finally:
        client.close()


def test_operations_paths_are_closed_to_the_internet(shop: dict) -> None:
    for path in ("/metrics", "/schema", "/schema/openapi.json"):
        assert _wan_get(path)[0] == 403, path
    # From the app server itself (and the admin network) they answer.
    local = on("app1", "curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1/metrics").stdout
    assert local == "200"


def test_nginx_limits_log_in_attempts_per_address(shop: dict) -> None:
    code = (
        "import httpx\n"
        f"with httpx.Client(base_url='https://{EDGE_WAN}', verify=False, timeout=10) as c:\n"
        "    for _ in range(12):\n"
        "        r = c.post('/api/v1/staff/session', json={'username': 'x', 'password': 'y'})\n"
        "        print(r.status_code, r.headers['content-type'].split(';')[0])"
    )
    replies = [
        tuple(line.split())
        for line in from_ns("client", sys.executable, "-c", code).stdout.splitlines()
    ]
    assert len(replies) == 12
    # A burst reaches shopd, which refuses the log-in: this client's own first failure, counted
    # against its own address (nginx passes it on), not against nginx's…
    assert replies[0] == ("401", "application/json"), replies
    # …the rest stop at nginx.
    assert replies[-1] == ("429", "text/html"), replies


SLOW_CLIENT = """
import json, socket, ssl, sys, threading, time
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
held = {}
def hold(name, partial):
    conn = ctx.wrap_socket(socket.create_connection((sys.argv[1], 443), timeout=60))
    conn.sendall(partial)
    start, answer = time.monotonic(), b""
    try:
        while chunk := conn.recv(4096):
            answer += chunk
        how = "closed by nginx"
    except socket.timeout:
        how = "still open after 60 s"
    except OSError as exc:
        how = f"closed by nginx ({type(exc).__name__})"
    held[name] = {"seconds": round(time.monotonic() - start, 1), "how": how,
                  "answer": answer[:12].decode("latin-1")}
partials = {
    "headers": b"GET / HTTP/1.1\\r\\nHost: shop\\r\\nX-Slow: ",
    "body": b"POST /api/v1/cart/items HTTP/1.1\\r\\nHost: shop\\r\\n"
            b"Content-Type: application/json\\r\\nContent-Length: 100\\r\\n\\r\\n{",
}
threads = [threading.Thread(target=hold, args=item) for item in partials.items()]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(held))
"""


def test_nginx_drops_clients_that_send_too_slowly(shop: dict) -> None:
    """A slow-loris client: headers or a body that never finish. nginx gives up on each after
    its 15 s time-out instead of holding a connection (and an upstream) for ever."""
    held = json.loads(from_ns("client", sys.executable, "-c", SLOW_CLIENT, EDGE_WAN).stdout)
    for name in ("headers", "body"):
        assert held[name]["how"].startswith("closed by nginx"), held
        # Not refused at once: it is the time-out, 15 s, that ends it.
        assert 10 <= held[name]["seconds"] <= 40, held
    # The unfinished body never reached shopd: nginx buffers bodies and answered 408 itself.
    assert held["body"]["answer"] in ("", "HTTP/1.1 408"), held


def _db1_count(table: str) -> int:
    return int(on("db1", f"mariadb -N -e 'SELECT COUNT(*) FROM {DATABASE}.{table}'").stdout)


def test_nightly_backup_on_db1_is_pulled_verified_and_restored(shop: dict, tmp_path: Path) -> None:
    timers = on("db1", "systemctl list-timers shopd-backup.timer --all --no-pager").stdout
    assert "shopd-backup.service" in timers
    assert on("db1", "systemctl is-enabled shopd-backup.timer").stdout.strip() == "enabled"
    orders = _db1_count("orders")
    assert orders > 0, "earlier tests placed orders"

    # The operator's pull starts the timer's unit, copies its backups over SSH and verifies them
    # here, in a scratch database on the control machine's MariaDB.
    folder = tmp_path / "pulled"
    scratch = mysql_url(f"shopd_test_lab_{uuid.uuid4().hex[:8]}")
    pulled = shopctl(
        "backup", "pull", "--lab", "--create", "--verify", "--dir", str(folder), "--scratch", scratch
    )  # fmt: skip
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert "pulled" in pulled.stdout and "verified" in pulled.stdout
    assert (
        on("db1", "systemctl show -p Result --value shopd-backup.service").stdout.strip()
        == "success"
    )
    metrics = on("db1", "cat /var/lib/prometheus/node-exporter/shopd_backup.prom").stdout
    assert "shopd_backup_last_run_ok 1.0" in metrics
    [entry] = [b for b in store.load(folder / "db1")]
    assert entry.verified and entry.manifest["tables"]["orders"] == orders
    assert entry.manifest["binlog"]["file"].startswith("mariadb-bin.")
    remote_list = on("db1", "ls -l /var/backups/shopd").stdout
    assert entry.manifest["file"] in remote_list and "-rw-------" in remote_list
    # The verification ran on db1 too, and its scratch database did not reach the replica.
    assert "verify" not in on("db2", "mariadb -N -e 'SHOW DATABASES'").stdout

    target = Database.from_url(mysql_url(f"{Database.from_url(scratch).name}_restored"))
    try:
        restored = shopctl(
            "backup", "restore", "latest", "--dir", str(folder / "db1"),
            "--to", mysql_url(target.name),
        )  # fmt: skip
        assert restored.returncode == 0, restored.stderr
        assert int(target.query("SELECT COUNT(*) FROM orders")[0][0]) == orders
        assert integrity_problems(target) == []

        # Before a campaign, from the control machine: the restored copy as the shop's
        # database, the backups just pulled, and every app and db host over SSH.
        capacity = tmp_path / "capacity"
        capacity.mkdir()
        save_result(
            capacity, users=100, profile="campaign", url="lab", limits=Thresholds(), complete=True
        )
        checked = shopctl_with(
            "campaign", "check", "--lab", "--visitors", "300", "--date", "2030-01-01",
            "--capacity", str(capacity), "--backup-dir", str(folder), "--min-free-gb", "0.1",
            env={"SHOPD_DATABASE_URL": mysql_url(target.name), "SHOPD_DATA_DIR": str(tmp_path)},
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr
        for line in ("app1 shopd", "app1 disk /", "db1 mariadb", "db1 disk /var/lib/mysql"):
            assert re.search(rf"GO\s*│\s*{line}\s", checked.stdout), checked.stdout
        assert checked.stdout.rstrip().endswith("go")
    finally:
        target.drop()

    # A failing night: the unit fails, the journal says why, the metric drops to 0.
    env = "/etc/shopd/backup.env"
    on("db1", f"cp {env} {env}.good && sed -i 's/shopd_backup:[^@]*@/shopd_backup:wrong@/' {env}")
    try:
        assert not on("db1", "systemctl start shopd-backup.service", warn=True).ok
        assert (
            on("db1", "systemctl is-failed shopd-backup.service", warn=True).stdout.strip()
            == "failed"
        )
        journal = on("db1", "journalctl -u shopd-backup.service -n 20 --no-pager -o cat").stdout
        assert "Access denied for user 'shopd_backup'" in journal
        failed = on("db1", "cat /var/lib/prometheus/node-exporter/shopd_backup.prom").stdout
        assert "shopd_backup_last_run_ok 0.0" in failed
    finally:
        on("db1", f"mv {env}.good {env} && systemctl reset-failed shopd-backup.service")


def test_dry_run_after_a_deploy_has_nothing_to_do(shop: dict) -> None:
    dry = shopctl("deploy", "--lab", "--dry", "--log", str(lab.state_dir() / "dry.log"))
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "nothing to do" in dry.stdout


def test_rolling_deploy_under_load_fails_no_request(shop: dict) -> None:
    pids = {
        h: on(h, "systemctl show -p MainPID --value shopd").stdout.strip() for h in ("app1", "app2")
    }
    load = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            "shopd-lab-client",
            sys.executable,
            LOAD,
            f"https://{EDGE_WAN}",
            "5",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2)
        rolled = shopctl(
            "deploy", "--lab", "--rolling", "--log", str(lab.state_dir() / "rolling.log")
        )
    finally:
        load.send_signal(signal.SIGTERM)
        stats = json.loads(load.communicate(timeout=30)[0])
    assert rolled.returncode == 0, rolled.stdout[-3000:]
    assert "draining app1" in rolled.stdout and "draining app2" in rolled.stdout
    # Every app server was restarted, one at a time, and no customer saw an error.
    after = {h: on(h, "systemctl show -p MainPID --value shopd").stdout.strip() for h in pids}
    assert all(after[h] != pids[h] for h in pids), (pids, after)
    assert stats["failed"] == [] and stats["ok"] > 100, stats
    # Both are back behind nginx.
    for host in ("app1", "app2"):
        assert " down;" not in on(host, "cat /etc/nginx/conf.d/shopd.conf").stdout


def _wait_ready(host: str) -> None:
    for _ in range(120):
        if on(host, "curl -fsS -o /dev/null http://127.0.0.1:8000/readyz", warn=True).ok:
            return
        time.sleep(0.5)
    raise AssertionError(f"shopd on {host} did not come back")


def test_scaling_out_is_adding_a_host_and_deploying_again(shop: dict, tmp_path: Path) -> None:
    # The shop with app1 only: an inventory without app2.
    full = lab.inventory_path().read_text()
    blocks = full.split("\n\n")
    small = tmp_path / "inventory.toml"
    small.write_text("\n\n".join(b for b in blocks if not b.startswith("[hosts.app2]")))
    code, _, stderr = deploy(inventory=small)
    assert code == 0, stderr[-2000:]
    assert "10.78.0.12:8000" not in on("app1", "cat /etc/nginx/conf.d/shopd.conf").stdout
    # Add the host back to app_servers and deploy again: nothing else to do.
    code, _, stderr = deploy()
    assert code == 0, stderr[-2000:]
    for host in ("app1", "app2"):
        assert "server 10.78.0.12:8000" in on(host, "cat /etc/nginx/conf.d/shopd.conf").stdout
    # It really serves: with app1's shopd stopped, the shop answers through app2.
    on("app1", "systemctl stop shopd")
    try:
        assert [_wan_get("/api/v1/categories")[0] for _ in range(6)] == [200] * 6
    finally:
        on("app1", "systemctl start shopd")
        _wait_ready("app1")
        # nginx retries a failed upstream only after fail_timeout (5 s): until then app2
        # carries everything, and the next test stops app2.
        time.sleep(6)


def test_one_app_server_of_two_stopped_under_load(shop: dict) -> None:
    """The drill: app2's shopd stops (not drained first) while 6 shoppers browse and fill carts
    through nginx; fewer than 0.1 % of their requests may fail."""
    load = subprocess.Popen(
        ["ip", "netns", "exec", "shopd-lab-client", sys.executable, LOAD, f"https://{EDGE_WAN}",
         "8", "6", "shop"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        time.sleep(10)
        on("app2", "systemctl stop shopd")
        time.sleep(15)  # app1 carries the shop alone
        on("app2", "systemctl start shopd")
        _wait_ready("app2")
        time.sleep(8)  # and takes its share again once nginx tries it (fail_timeout 5 s)
    finally:
        load.send_signal(signal.SIGTERM)
        stats = json.loads(load.communicate(timeout=60)[0])
    total = stats["ok"] + len(stats["failed"])
    error_rate = len(stats["failed"]) / max(total, 1)
    print(f"app2 stopped under load: {total} requests, error rate {error_rate:.4%}")
    assert total >= 1000, stats
    assert error_rate < 0.001, stats["failed"][:20]
    for host in ("app1", "app2"):
        assert on(host, "systemctl is-active shopd").stdout.strip() == "active"


def test_down_leaves_nothing(lab_deployed: dict) -> None:
    result = shopctl("lab", "down")
    assert result.returncode == 0, result.stderr
    assert nothing_left() == []
    assert lab.leftovers() == [] and network.namespaces() == []
