"""The deployment files: docker-compose.yml, deploy/*, .dockerignore, deploy/Procfile, .ci/run.

docker-compose.yml is read in the best way this machine offers: `docker compose config` when
the Compose plugin runs (the docker client alone is not enough), else PyYAML when it is
installed, else a small structural reader of the file's own layout.  Every test asserts
something in each case; none is skipped.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
SERVICES = ("gateway", "intake", "approval", "payment", "reporting")
STAGES = ("intake", "approval", "payment", "reporting")
WORKER_FLAGS = "-P prefork --prefetch-multiplier 1 --without-gossip --without-mingle"


# --- reading docker-compose.yml ---------------------------------------------------------------
@cache
def compose_cli() -> bool:
    """Whether `docker compose` runs here (a docker client without the plugin does not count)."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(
            ["docker", "compose", "version"], cwd=ROOT, capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def run_compose(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `docker compose -f docker-compose.yml ARGS` from the repository root."""
    return subprocess.run(
        ["docker", "compose", "-f", "docker-compose.yml", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@cache
def compose_model() -> dict[str, Any] | None:
    """The compose model: resolved by Compose, else loaded by PyYAML, else None (text only)."""
    if compose_cli():
        result = run_compose("config", "--format", "json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)
    try:
        import yaml
    except ImportError:
        return None
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def top_level_blocks(text: str) -> dict[str, str]:
    """The file's top-level keys, each with the text of its block."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+):", line)
        if match:
            current = blocks.setdefault(match.group(1), [line])
        elif current is not None:
            current.append(line)
    return {key: "\n".join(lines) for key, lines in blocks.items()}


def service_blocks(text: str) -> dict[str, str]:
    """The text of each service under `services:` (keys indented by exactly two spaces)."""
    body = top_level_blocks(text).get("services", "")
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in body.splitlines()[1:]:
        match = re.match(r"^  ([A-Za-z0-9_.-]+):\s*$", line)
        if match:
            current = blocks.setdefault(match.group(1), [])
        elif current is not None and (line.startswith("   ") or not line.strip()):
            current.append(line)
    return {name: "\n".join(lines) for name, lines in blocks.items()}


def normal(value: Any) -> str:
    """A command or definition as one line: lists joined, quotes dropped, spaces collapsed."""
    if isinstance(value, list):
        value = " ".join(str(part) for part in value)
    elif not isinstance(value, str):
        value = json.dumps(value, sort_keys=True)
    return re.sub(r"\s+", " ", value.replace('"', "").replace("'", "")).strip()


@cache
def services() -> dict[str, dict[str, Any]]:
    """Each service as {"command": str, "text": str, "def": dict | None}."""
    model = compose_model()
    if model is not None:
        return {
            name: {"command": normal(spec.get("command", "")), "text": normal(spec), "def": spec}
            for name, spec in (model.get("services") or {}).items()
        }
    return {
        name: {"command": normal(block), "text": normal(block), "def": None}
        for name, block in service_blocks(COMPOSE.read_text(encoding="utf-8")).items()
    }


def published_ports(spec: dict[str, Any]) -> list[str]:
    """A service's published ports as host_ip:published:target strings (short or long form)."""
    out = []
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            out.append(f"{port.get('host_ip', '')}:{port.get('published', '')}:{port.get('target', '')}")
        else:
            out.append(str(port))
    return out


# --- module references of process commands ----------------------------------------------------
def module_file(module: str) -> Path | None:
    """The source file of a module of this repository, or None."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def top_level_names(path: Path) -> set[str]:
    """Names a module binds at top level: functions, classes, assignments and imports."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def references(command: str) -> list[tuple[str, str | None, bool]]:
    """(module, attribute, run with -m) for each module a process command names."""
    refs: list[tuple[str, str | None, bool]] = []
    refs += [(m[1], None, True) for m in re.finditer(r"python3?\s+-m\s+([\w.]+)", command)]
    refs += [(m[1], m[2], False) for m in re.finditer(r"(?:-A|--app)[\s=]+([\w.]+)(?::(\w+))?", command)]
    refs += [(m[1], m[2], False) for m in re.finditer(r"([A-Za-z_][\w.]*):(\w+)\(\)", command)]
    return refs


def unresolved(command: str) -> list[str]:
    """The references of a command that name no module or attribute of this repository."""
    problems = []
    for module, attribute, as_main in references(command):
        path = module_file(module)
        if path is None:
            problems.append(f"no module {module}")
            continue
        if attribute and attribute not in top_level_names(path):
            problems.append(f"{module} has no {attribute}")
        if as_main and path.name == "__init__.py":
            if not (path.parent / "__main__.py").is_file():
                problems.append(f"package {module} has no __main__")
        elif as_main and "__main__" not in path.read_text(encoding="utf-8"):
            problems.append(f"{module} does not run as a program")
    return problems


def procfile() -> dict[str, str]:
    """deploy/Procfile as {process: command}."""
    out = {}
    for line in (DEPLOY / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            out[name.strip()] = command.strip()
    return out


# --- (a) docker-compose.yml parses ------------------------------------------------------------
def test_compose_file_parses() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    if compose_cli():
        result = run_compose("config", "--quiet")
        assert result.returncode == 0, result.stderr
    model = compose_model()
    if model is not None:
        assert isinstance(model.get("services"), dict)
        assert {"backend", "edge"} <= set(model.get("networks") or {})
        return
    # Neither Compose nor PyYAML here: check the layout the file is written in.
    assert "\t" not in text, "YAML forbids tabs for indentation"
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            indent = len(line) - len(line.lstrip(" "))
            assert indent % 2 == 0, f"line {number}: odd indentation"
            if line.lstrip().startswith(("[", "- [")) or ": [" in line:
                assert line.count("[") == line.count("]"), f"line {number}: unbalanced flow list"
    anchors = set(re.findall(r"&([\w-]+)", text))
    aliases = set(re.findall(r"\*([\w-]+)", text))
    assert aliases <= anchors, f"aliases without anchors: {aliases - anchors}"
    keys = set(top_level_blocks(text))
    assert {"services", "networks", "volumes", "x-ecase-env", "x-ecase-app"} <= keys
    assert services(), "no services found"


# --- (b) every process, and the infrastructure ------------------------------------------------
def test_compose_has_a_web_service_for_every_service() -> None:
    found = services()
    for svc in SERVICES:
        command = found[svc]["command"]
        assert "gunicorn -c deploy/gunicorn.conf.py --bind 0.0.0.0:8000" in command, svc
        assert f"services.{svc}:create_app()" in command, svc
        assert f"/api/{svc}/health" in found[svc]["text"], f"{svc}: no healthcheck"


def test_compose_has_a_worker_and_a_relay_for_every_stage() -> None:
    found = services()
    for svc in STAGES:
        worker = found[f"{svc}-worker"]["command"]
        assert f"celery -A services.{svc}.worker:celery_app worker -Q {svc} -n {svc}@%h" in worker
        assert WORKER_FLAGS in worker
        assert "ECASE_WORKER_CONCURRENCY" in worker
        assert f"python -m shared.relay {svc}" in found[f"{svc}-relay"]["command"]
    assert "gateway-worker" not in found
    assert "gateway-relay" not in found


def test_compose_migrates_every_database_then_seeds_reference_data_only() -> None:
    command = services()["migrate"]["command"]
    for svc in SERVICES:
        assert f"python -m services.{svc}.manage migrate" in command
    assert command.index("python -m services.intake.manage seed") > command.rindex("migrate")
    assert "seed-demo" not in COMPOSE.read_text(encoding="utf-8")


def test_compose_long_running_processes_wait_for_migrations_and_healthy_stores() -> None:
    found = services()
    app = [*SERVICES, *(f"{s}-worker" for s in STAGES), *(f"{s}-relay" for s in STAGES)]
    if compose_model() is None:
        anchor = top_level_blocks(COMPOSE.read_text(encoding="utf-8"))["x-ecase-app"]
        assert re.search(r"migrate:\s+condition: service_completed_successfully", anchor)
        assert re.search(r"postgres:\s+condition: service_healthy", anchor)
        assert re.search(r"redis:\s+condition: service_healthy", anchor)
        for name in app:
            assert "<<: *ecase-app" in found[name]["text"], name
        return
    for name in app:
        depends = found[name]["def"].get("depends_on") or {}
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_compose_publishes_only_the_gateway() -> None:
    found = services()
    if compose_model() is None:
        publishing = {name for name, s in found.items() if "ports:" in s["text"]}
        assert publishing <= {"gateway", "flower"}
        assert "8000:8000" in found["gateway"]["text"]
        assert "127.0.0.1:5555:5555" in found["flower"]["text"]
        return
    for name, service in found.items():
        ports = published_ports(service["def"])
        if name == "gateway":
            assert any(p.endswith(":8000") for p in ports), ports
        else:
            assert all(p.startswith("127.0.0.1:") for p in ports), (name, ports)


def test_compose_infrastructure() -> None:
    found = services()
    postgres, redis, flower = found["postgres"], found["redis"], found["flower"]
    assert "image: postgres:15" in postgres["text"]
    assert "pg_isready" in postgres["text"]
    assert "postgres-init.sql" in postgres["text"]
    assert "/docker-entrypoint-initdb.d/" in postgres["text"]
    assert "image: redis:7" in redis["text"]
    assert "redis-server /usr/local/etc/redis/redis.conf" in redis["command"]
    assert "--requirepass" in redis["command"]
    assert "REDIS_PASSWORD" in redis["command"]
    assert "deploy/redis.conf" in redis["text"]
    assert "redis-cli ping" in redis["text"]
    assert "mher/flower" in flower["text"]
    assert "flower --port=5555" in flower["command"]


def test_redis_conf_keeps_the_broker_durable_and_never_evicts() -> None:
    lines = {
        line.strip()
        for line in (DEPLOY / "redis.conf").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    assert {"appendonly yes", "appendfsync everysec", "maxmemory-policy noeviction"} <= lines
    assert "protected-mode yes" in lines
    assert not any(line.startswith(("requirepass", "bind 0.0.0.0")) for line in lines)


def test_postgres_init_creates_every_service_database() -> None:
    sql = (DEPLOY / "postgres-init.sql").read_text(encoding="utf-8")
    created = re.findall(r"^CREATE DATABASE (\w+);", sql, flags=re.MULTILINE)
    assert sorted(created) == sorted(f"ecase_{svc}" for svc in SERVICES)


def test_env_sample_documents_every_setting_compose_reads() -> None:
    sample = (DEPLOY / "env.sample").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", sample, flags=re.MULTILINE))
    expected = {
        "ECASE_DATABASE_URL",
        "ECASE_BROKER_URL",
        "ECASE_SECRET_KEY",
        "ECASE_RATELIMIT_STORAGE_URI",
        "ECASE_INTAKE_URL",
        "ECASE_APPROVAL_URL",
        "ECASE_PAYMENT_URL",
        "ECASE_REPORTING_URL",
        "ECASE_WEB_WORKERS",
        "ECASE_WEB_THREADS",
        "ECASE_WORKER_CONCURRENCY",
        "ECASE_VISIBILITY_TIMEOUT",
        "ECASE_MAX_ATTEMPTS",
        "ECASE_LOGIN_MAX_FAILURES",
        "ECASE_LOGIN_FAILURE_WINDOW",
        "ECASE_TOKEN_TTL_SECONDS",
        "ECASE_DEMO_PASSWORD",
        "ECASE_FLOWER_URL",
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
    }
    assert expected <= documented, expected - documented
    # What the containers' shells read ($$VAR in compose) must be documented too.
    read_in_containers = set(re.findall(r"\$\$\{?([A-Z][A-Z0-9_]*)", COMPOSE.read_text(encoding="utf-8")))
    assert read_in_containers <= documented, read_in_containers - documented
    assert "ECASE_DEMO_PASSWORD=" not in re.sub(r"^#.*$", "", sample, flags=re.MULTILINE)
    assert "ECASE_DATABASE_URL=postgresql+psycopg://ecase:" in sample
    assert "ECASE_BROKER_URL=redis://:" in sample


def test_dockerfile_builds_one_unprivileged_image() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users, "no USER instruction"
    assert users[-1] not in {"root", "0"}
    assert not any(line.startswith("HEALTHCHECK") for line in instructions)
    assert "pip install ." in dockerfile
    assert "[dev]" not in dockerfile
    cmd = json.loads(next(line for line in instructions if line.startswith("CMD "))[4:])
    assert cmd[0] == "gunicorn"
    assert "services.gateway:create_app()" in cmd
    assert not unresolved(" ".join(cmd))
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".venv", "data", ".git", "**/__pycache__", "test-artifacts", "deploy/env"} <= ignored


def test_compose_commands_name_modules_that_exist() -> None:
    for name, service in services().items():
        if name in {"postgres", "redis", "flower"}:
            continue
        assert references(service["command"]), f"{name}: no module in {service['command']!r}"
        assert not unresolved(service["command"]), (name, unresolved(service["command"]))


# --- (c) CI script --------------------------------------------------------------------------------
def test_ci_run_is_an_executable_bash_script_that_runs_make_test() -> None:
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK)
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in text
    assert re.search(r"^exec make test\b", text, flags=re.MULTILINE)
    assert "pg_ctlcluster" in text
    assert "redis-server" in text
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr


# --- (d) Procfile ---------------------------------------------------------------------------------
def test_procfile_processes_name_modules_that_exist() -> None:
    processes = procfile()
    expected = {*SERVICES, *(f"{s}-worker" for s in STAGES), *(f"{s}-relay" for s in STAGES)}
    assert expected <= set(processes)
    for name, command in processes.items():
        assert references(command), f"{name}: no module in {command!r}"
        assert not unresolved(command), (name, unresolved(command))


def test_module_check_catches_a_wrong_name() -> None:
    assert unresolved("celery -A services.intake.worker:celery_app worker") == []
    assert unresolved("python -m shared.relay intake") == []
    assert unresolved("gunicorn 'services.gateway:create_app()'") == []
    assert unresolved("celery -A services.intake.worker:no_such_app worker")
    assert unresolved("python -m shared.no_such_module")
    assert unresolved("gunicorn 'services.nowhere:create_app()'")
    assert unresolved("python -m shared.config")  # no __main__ block
