"""The files an operator installs from: .env.example, manifest.yml, Dockerfile, docs."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli_env import SETTING_NAMES

ROOT = Path(__file__).resolve().parent.parent
SPEC_SETTINGS = [n for n in SETTING_NAMES if n != "OLD_TOKEN_ENCRYPTION_KEY"]


def test_env_example_lists_every_setting_with_a_comment():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for name in SPEC_SETTINGS:
        index = next((i for i, line in enumerate(lines) if re.match(rf"^#? *{name}=", line)), None)
        assert index is not None, f"{name} missing from .env.example"
        assert lines[index - 1].startswith("#"), f"{name} has no comment above it"


def test_manifest_has_the_command_interactivity_home_and_socket_mode():
    manifest = (ROOT / "manifest.yml").read_text()
    assert "command: /tiktok-cancel" in manifest
    assert "should_escape: true" in manifest
    assert re.search(r"interactivity:\s*\n\s*is_enabled: true", manifest)
    assert "socket_mode_enabled: true" in manifest
    assert "home_tab_enabled: true" in manifest
    assert "app_home_opened" in manifest
    for scope in ("commands", "chat:write", "users:read"):
        assert f"- {scope}" in manifest


def test_dockerfile_runs_as_non_root_with_a_volume_and_a_healthcheck():
    docker = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", docker, re.M)
    user = re.search(r"^USER (\S+)", docker, re.M)
    assert user and user.group(1) not in ("root", "0")
    assert 'VOLUME ["/data"]' in docker
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", docker, re.M)
    assert 'CMD ["python", "-m", "bot"]' in docker


def test_operator_guide_covers_what_an_operator_needs():
    guide = (ROOT / "docs" / "operating.md").read_text()
    for topic in (
        "Redirect URI",
        "/tiktok/webhook",
        "reverse proxy",
        "Socket Mode",
        ".backup",
        "rotate-key",
        "Logs",
        "load balancer",
        "up to 10 connections",
        "DATABASE_URL",
        "?host=/run/postgresql",
        "pg_dump",
        "copy-db --to",
        "--to-env",
        "UPLOAD_TOKEN",
        "UPLOAD_ACCOUNTS",
        "UPLOAD_URL_PREFIXES",
    ):
        assert topic in guide, topic


# --- the image: dependencies from the lock file, in their own layer; sandbox/ shipped ----------


def dockerfile_steps() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if re.match(r"^(COPY|RUN) ", line)]


def test_dockerfile_installs_the_lock_file_before_copying_the_code():
    steps = dockerfile_steps()
    lock_copy = steps.index("COPY requirements.lock ./")
    install = next(i for i, s in enumerate(steps) if "pip install -r requirements.lock" in s)
    code = next(i for i, s in enumerate(steps) if s.startswith("COPY bot "))
    assert lock_copy < install < code, steps
    assert all(not s.startswith("COPY . ") for s in steps)  # no copy of everything early
    # the project itself adds no unpinned dependency
    (project,) = [s for s in steps if s.startswith("RUN pip install") and "-r " not in s]
    assert "--no-deps" in project


def test_dockerfile_ships_the_sandbox_and_every_package():
    steps = dockerfile_steps()
    for package in ("bot", "handlers", "storage", "sandbox"):
        assert f"COPY {package} ./{package}" in steps, package
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "sandbox" not in ignored


def test_the_lock_file_pins_every_dependency_exactly_and_satisfies_pyproject():
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lines = [
        line.strip()
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    pins = {}
    for line in lines:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+!-]+)", line)
        assert match, f"not an exact pin: {line}"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dependency in project["dependencies"]:
        requirement = Requirement(dependency)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock"
        assert requirement.specifier.contains(pins[name]), (dependency, pins[name])


def test_pyproject_asks_for_sqlite_utils_4():
    """storage/legacy_sqlite.py uses sqlite-utils' Database.atomic(): version 4 is the floor."""
    text = (ROOT / "pyproject.toml").read_text()
    assert '"sqlite-utils>=4"' in text
