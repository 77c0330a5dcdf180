"""The whole OpenAPI schema fuzzed with schemathesis against a real server: as a guest or a
logged-in customer on the public API, and as each staff role on the staff API. No 5xx, every
answer as documented (status, content type, body), every 4xx in the one error shape.

Bounded here (``SHOPD_FUZZ_EXAMPLES``, 8 per operation and identity); for a longer run:
``SHOPD_FUZZ_EXAMPLES=500 ./run test tests/test_api_fuzz.py``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server import free_port, running, shopctl

EXAMPLES = int(os.environ.get("SHOPD_FUZZ_EXAMPLES", "8"))
PASSWORD = "fuzz-password-1"
ROLES = ("clerk", "manager", "admin")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Logging out would end the tokens the rest of the run uses: these get sessions of their own.
LOG_OUT = {("DELETE", "/api/v1/session"), ("DELETE", "/api/v1/staff/session")}


@dataclass
class Served:
    base: str
    staff: dict[str, str]
    customer: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("fuzz")
    shop_port, gw_port = free_port(), free_port()
    env = {
        "SHOPD_DATA_DIR": str(tmp),
        "SHOPD_BACKGROUND_JOBS": "false",
        "SHOPD_PUBLIC_URL": f"http://127.0.0.1:{shop_port}",
        "SHOPD_PAYMENT_GATEWAY_URL": f"http://127.0.0.1:{gw_port}",
        "SHOPD_PAYMENT_GATEWAY_KEY": "fuzz-gateway-key",
        "SHOPD_PAYMENT_WEBHOOK_SECRET": "fuzz-webhook-secret",
        "SHOPD_MAIL_BACKEND": "files",
    }
    assert shopctl("db", "upgrade", env=env).returncode == 0
    assert shopctl("db", "seed-demo", "--products", "24", env=env).returncode == 0
    for role in ROLES:
        added = shopctl(
            "staff", "add", f"fuzz.{role}", "--role", role, "--password-stdin",
            env=env, stdin=PASSWORD,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    gw = ("paygate", "--port", str(gw_port))
    shop = ("serve", "--port", str(shop_port), "--log-level", "warning")
    with (
        running(*gw, env=env, cwd=tmp, port=gw_port, health="/pay/-", up=(404,)),
        running(*shop, env=env, cwd=tmp, port=shop_port) as (base, _, _),
    ):
        staff = {}
        for role in ROLES:
            r = httpx.post(
                f"{base}/api/v1/staff/session",
                json={"username": f"fuzz.{role}", "password": PASSWORD},
            )
            assert r.status_code == 201, r.text
            staff[role] = r.json()["token"]
        r = httpx.post(
            f"{base}/api/v1/customers",
            json={"email": "fuzz@example.com", "password": PASSWORD, "name": "Fuzz"},
        )
        assert r.status_code == 201, r.text
        r = httpx.post(
            f"{base}/api/v1/session", json={"email": "fuzz@example.com", "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        yield Served(base, staff, r.json()["token"])


def throwaway_sessions(base: str, *, staff: bool) -> list[str | None]:
    """Fresh log-ins, for the examples that log out."""
    if staff:
        logins = [
            ("/api/v1/staff/session", {"username": f"fuzz.{role}", "password": PASSWORD})
            for role in ROLES
        ]
    else:
        logins = [("/api/v1/session", {"email": "fuzz@example.com", "password": PASSWORD})]
    tokens: list[str | None] = [None]
    for path, body in logins:
        r = httpx.post(f"{base}{path}", json=body)
        assert r.is_success, r.text
        tokens.append(r.json()["token"])
    return tokens


@pytest.fixture(scope="module")
def api_schema(served: Served) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{served.base}/schema/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: schemathesis.Case, served: Served) -> None:
    # Each example as everyone who may call it: the staff API as each role, the public API as a
    # guest and as a logged-in customer.
    staff_api = case.path.startswith("/api/v1/staff/")
    if (case.method.upper(), case.path) in LOG_OUT:
        tokens = throwaway_sessions(served.base, staff=staff_api)
    elif staff_api:
        tokens = [served.staff[role] for role in ROLES]
    else:
        tokens = [None, served.customer]
    for token in tokens:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        case.call_and_validate(base_url=served.base, headers=headers, checks=CHECKS, timeout=30)


def _objects(schema: dict, components: dict, seen: set[str]) -> list[tuple[str, dict]]:
    """Every object schema reachable from ``schema``, with the component it belongs to."""
    found: list[tuple[str, dict]] = []
    if ref := schema.get("$ref"):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            target = components[name]
            if target.get("type") == "object":
                found.append((name, target))
            found += _objects(target, components, seen)
        return found
    for key in ("properties",):
        for sub in schema.get(key, {}).values():
            found += _objects(sub, components, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _objects(schema[key], components, seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key, []):
            found += _objects(sub, components, seen)
    return found


def test_every_request_body_object_in_the_schema_is_strict(served: Served) -> None:
    # The served document: the finishing touches are made at start-up.
    schema = httpx.get(f"{served.base}/schema/openapi.json").json()
    components = schema["components"]["schemas"]
    bodies = 0
    loose = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            content = (op.get("requestBody") or {}).get("content", {})
            if "application/json" not in content:
                continue
            bodies += 1
            for name, obj in _objects(content["application/json"]["schema"], components, set()):
                if obj.get("additionalProperties") is not False:
                    loose.append(f"{method.upper()} {path}: {name}")
    assert bodies > 40
    assert loose == []
