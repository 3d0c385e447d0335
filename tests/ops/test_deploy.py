"""The container image and the compose stack, checked as far as this machine allows.

Docker does not run here: the compose file is validated against the Compose
Specification's JSON schema and cross-checked against the app (its commands, its
settings); the Dockerfile goes through hadolint. `.ci/run` also runs the Caddy proxy
in front of two real instances (tests/ops/check_proxy.py).
"""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from blog_graphql.cli.main import build_parser
from blog_graphql.config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
BIN = Path(sys.executable).parent


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(COMPOSE.read_text())
    return loaded


def app_services() -> dict[str, dict[str, Any]]:
    """Services that run the project's own image."""
    return {name: spec for name, spec in compose()["services"].items() if "build" in spec}


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)


def test_compose_file_is_valid_under_the_compose_specification():
    result = run(
        str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_does_catch_mistakes(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        COMPOSE.read_text().replace("condition: service_healthy", "condition: service_ready", 1)
    )
    result = run(
        str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(broken)
    )
    assert result.returncode == 1
    assert "service_ready" in result.stdout


def test_dockerfile_passes_hadolint():
    result = run(str(BIN / "hadolint"), "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_stack_has_every_part_the_issue_asks_for():
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "api-1", "api-2", "worker", "proxy", "mailpit"} <= set(
        services
    )
    assert services["migrate"]["restart"] == "no"
    for api in ("api-1", "api-2"):
        needs = services[api]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    proxy_address = services["proxy"]["networks"]["default"]["ipv4_address"]
    assert services["api-1"]["environment"]["TRUSTED_PROXIES"] == proxy_address
    assert (ROOT / "deploy" / "Caddyfile").is_file()


def test_every_dependency_names_a_service():
    services = compose()["services"]
    for name, spec in services.items():
        assert set(spec.get("depends_on", {})) <= set(services), name


@pytest.mark.parametrize("service", sorted(app_services()))
def test_app_services_run_real_commands_with_known_settings(service):
    spec = app_services()[service]
    build_parser().parse_args(spec["command"])  # exits on an unknown command or option
    known = {name.upper() for name in Settings.model_fields}
    assert set(spec["environment"]) <= known


def test_the_image_health_check_asks_the_port_every_role_serves():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "WORKER_HTTP_PORT=8000" in dockerfile  # worker: /healthz on 8000
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]' in dockerfile
    assert "http://127.0.0.1:8000/healthz" in dockerfile
    for name, spec in app_services().items():
        if spec["command"][0] == "serve":
            assert spec["command"][-2:] == ["--port", "8000"], name
