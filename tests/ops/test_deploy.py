"""The container image and the compose stack, checked as far as this machine allows.

Docker does not run here: the compose file is validated against the Compose
Specification's JSON schema and cross-checked against the app (its commands, its
settings); the Dockerfile goes through hadolint. `.ci/run` also runs the Caddy proxy
in front of two real instances (tests/ops/check_proxy.py).
"""

import re
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


# --- the compose file as `docker compose config` would render it --------------------
# Docker is not installed here, so this follows the Compose Specification's rules:
# `${VAR}`, `${VAR:-default}` and `${VAR:?error}` take their value from the shell or
# `.env`; an `environment` entry with no value is passed through from there, or left
# unset in the container.

VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::(?P<op>[-?])(?P<arg>[^}]*))?\}")


def interpolate(text: str, dotenv: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        found = dotenv.get(match["name"], "")
        if found or match["op"] is None:
            return found
        if match["op"] == "?":
            raise ValueError(match["arg"])
        return match["arg"]

    return VARIABLE.sub(value, text)


def rendered_environment(service: str, dotenv: dict[str, str]) -> dict[str, str]:
    environment = compose()["services"][service]["environment"]
    rendered = {}
    for name, raw in environment.items():
        if raw is None:
            if name in dotenv:
                rendered[name] = dotenv[name]
        else:
            rendered[name] = interpolate(str(raw), dotenv)
    return rendered


def settings_of(service: str, dotenv: dict[str, str]) -> Settings:
    # The container's environment alone: validated as is, with no .env file and nothing
    # from this process's environment.
    environment = rendered_environment(service, dotenv)
    return Settings.model_validate({name.lower(): value for name, value in environment.items()})


def published_ports(service: str, dotenv: dict[str, str]) -> list[str]:
    spec = compose()["services"][service]
    return [interpolate(str(port), dotenv) for port in spec.get("ports", [])]


SECRET_ONLY = {"SECRET_KEY": "k" * 64}


def test_every_helper_port_is_published_on_loopback_only():
    services = compose()["services"]
    helpers = [name for name, spec in services.items() if spec.get("ports") and name != "proxy"]
    assert {"mailpit", "api-dev"} <= set(helpers)
    for name in helpers:
        for port in published_ports(name, SECRET_ONLY):
            assert port.startswith("127.0.0.1:"), (name, port)
    assert published_ports("mailpit", SECRET_ONLY) == ["127.0.0.1:8025:8025"]
    assert published_ports("mailpit", {"MAILPIT_PORT": "9025"}) == ["127.0.0.1:9025:8025"]
    # The proxy is the stack's front door; nothing else is reachable from outside.
    assert published_ports("proxy", SECRET_ONLY) == ["8080:80"]
    for name in ("postgres", "redis", "api-1", "api-2", "worker", "migrate"):
        assert "ports" not in services[name], name


def test_the_development_profile_serves_graphiql_and_introspection_on_loopback():
    services = compose()["services"]
    assert services["api-dev"]["profiles"] == ["development"]
    # A plain `docker compose up` starts exactly what it did: only api-dev is in a profile.
    assert [name for name, spec in services.items() if "profiles" in spec] == ["api-dev"]
    assert published_ports("api-dev", SECRET_ONLY) == ["127.0.0.1:8000:8000"]
    dev = settings_of("api-dev", SECRET_ONLY)
    assert dev.environment == "development"
    assert dev.graphiql_enabled and dev.introspection_enabled
    # Same database, Redis and mail as the production instances.
    assert dev.database_url == settings_of("api-1", SECRET_ONLY).database_url
    assert dev.redis_url == "redis://redis:6379/0"
    production = settings_of("api-1", SECRET_ONLY)
    assert production.is_production
    assert not production.graphiql_enabled and not production.introspection_enabled


def test_without_an_env_file_the_stack_keeps_the_apps_defaults():
    for service in ("api-1", "api-2", "worker", "migrate", "api-dev"):
        settings = settings_of(service, SECRET_ONLY)
        assert settings.smtp_host == "mailpit" and settings.smtp_port == 1025, service
        assert settings.smtp_user is None and not settings.smtp_tls
        assert settings.comment_moderation == "post"
        assert settings.rate_limit_enabled
        assert settings.rate_limit_fields == Settings.model_fields["rate_limit_fields"].default
    with pytest.raises(ValueError, match="set SECRET_KEY"):
        rendered_environment("api-1", {})


def test_smtp_moderation_cors_and_rate_limits_pass_through_from_dotenv():
    dotenv = {
        **SECRET_ONLY,
        "SMTP_HOST": "smtp.example.com",
        "SMTP_PORT": "465",
        "SMTP_USER": "mailer",
        "SMTP_PASSWORD": "s3cret",
        "SMTP_TLS": "true",
        "EMAILS_FROM": "Blog <blog@example.com>",
        "COMMENT_MODERATION": "pre",
        "CORS_ORIGINS": "https://app.example.com,https://admin.example.com",
        "RATE_LIMIT_ENABLED": "false",
        "RATE_LIMIT_CLIENT": "100/minute",
        "RATE_LIMIT_USER": "50/minute",
        "RATE_LIMIT_FIELDS": "login=5/minute",
    }
    for service in ("api-1", "api-2", "worker", "api-dev"):
        settings = settings_of(service, dotenv)
        assert (settings.smtp_host, settings.smtp_port) == ("smtp.example.com", 465), service
        assert (settings.smtp_user, settings.smtp_tls) == ("mailer", True)
        assert settings.smtp_password is not None
        assert settings.emails_from == "Blog <blog@example.com>"
        assert settings.comment_moderation == "pre"
        assert settings.cors_origins == ["https://app.example.com", "https://admin.example.com"]
        assert not settings.rate_limit_enabled
        assert (settings.rate_limit_client, settings.rate_limit_user) == (
            "100/minute",
            "50/minute",
        )
        assert settings.rate_limit_fields == "login=5/minute"
