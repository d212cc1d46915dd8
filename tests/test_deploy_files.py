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
    ):
        assert topic in guide, topic
