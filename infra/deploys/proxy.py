"""nginx in front of the app servers: TLS, HTTP→HTTPS, static files, limits, failover."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, server, systemd

from infra.deploys.app import APP_PORT, HOME
from infra.deploys.checked import as_list, checked_file

CERT = "/etc/nginx/tls/shop.crt"
KEY = "/etc/nginx/tls/shop.key"


@deploy("Proxy")
def proxy() -> None:
    apt.packages(name="nginx", packages=["nginx-light", "openssl"], cache_time=3600)
    server.shell(
        name="no default site",
        commands=["rm -f /etc/nginx/sites-enabled/default"],
        _if=lambda: host.get_fact(File, path="/etc/nginx/sites-enabled/default") is not None,
    )
    if host.data.get("tls_certificate"):
        checked_file(
            "TLS certificate", "passthrough.j2", CERT, check=None, content=host.data.tls_certificate
        )
        checked_file(
            "TLS key", "passthrough.j2", KEY, check=None, mode="600", content=host.data.tls_key
        )
    elif host.get_fact(File, path=CERT) is None:
        # The lab (or a first install) has no certificate yet: a self-signed one stands in.
        server.shell(
            name="self-signed certificate",
            commands=[
                "mkdir -p -m 700 /etc/nginx/tls && openssl req -x509 -newkey rsa:2048 -nodes"
                f" -days 825 -subj /CN={host.data.get('shop_hostname', 'shop')} -keyout {KEY} -out {CERT}"
                f" 2>/dev/null && chmod 600 {KEY}"
            ],
        )
    checked_file(
        "nginx site",
        "nginx-shopd.conf.j2",
        "/etc/nginx/conf.d/shopd.conf",
        # The staged site inside a minimal main config: nginx -t sees exactly the new file.
        check="printf 'events {{}}\\nhttp {{ include /etc/nginx/mime.types; include {path}; }}\\n' > {path}.main"
        " && nginx -t -q -c {path}.main; rc=$?; rm -f {path}.main; test $rc = 0",
        reload="nginx",
        upstreams=[f"{address}:{APP_PORT}" for address in host.data.app_server_addresses],
        drained=as_list(host.data.get("drained", [])),
        static=f"{HOME}/current/lib/python3.11/site-packages/shopd/web/static/",
        cert=CERT,
        key=KEY,
        admin_network=host.data.admin_network,
    )
    systemd.service(name="nginx running", service="nginx", running=True, enabled=True)
