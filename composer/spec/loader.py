"""Loading a compose project: discovery, project name and the chain of dict -> dict stages."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from composer.errors import SpecError
from composer.spec.cache import record as record_read, record_stdin
from composer.spec.source import Document, parse_documents

if TYPE_CHECKING:
    from composer.cli.app import GlobalOptions
    from composer.spec.model import Project

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
OVERRIDE_FILES = ("compose.override.yaml", "compose.override.yml",
                  "docker-compose.override.yaml", "docker-compose.override.yml")


@dataclass(frozen=True)
class ProjectOptions:
    """What to load and how (the global flags of every project command)."""

    files: tuple[str, ...] = ()
    project_name: str | None = None
    project_directory: str | None = None
    profiles: tuple[str, ...] = ()
    env_files: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    interpolate: bool = True
    resolve_paths: bool = True
    normalize: bool = True
    resolve_env_files: bool = True
    working_dir: str | None = None  # where to start discovery (default: the current directory)
    stdin: str | None = None  # the content of ``-f -`` (default: read sys.stdin)
    consistency: bool = True  # False: ``config --no-consistency`` (the semantic checks are skipped)
    all_resources: bool = False  # ``up --all-resources``: keep the networks and volumes no service uses
    targets: tuple[str, ...] = ()  # the services a command names: a disabled one enables its profiles


@dataclass
class LoadedModel:
    """The canonical dict of a project plus what was learned on the way."""

    name: str
    working_dir: str
    files: list[str]
    environment: dict[str, str]
    model: dict[str, Any]
    positions: dict[tuple[Any, ...], tuple[str, int, int]]
    output: dict[str, Any] = field(default_factory=dict)
    nested_extensions: bool = True  # the model has x- fields below the top level (printed in YAML only)


def normalize_project_name(name: str) -> str:
    """Lower-case, keep ``[a-z0-9_-]``, strip leading ``_``/``-`` (as Compose does)."""
    return "".join(re.findall(r"[a-z0-9_-]", name.lower())).lstrip("_-")


def find_files(start: Path) -> list[Path]:
    """The default compose file (and its override) in ``start`` or its nearest parent."""
    for directory in (start, *start.parents):
        for name in DEFAULT_FILES:
            candidate = directory / name
            if candidate.is_file():
                override = next((directory / o for o in OVERRIDE_FILES if (directory / o).is_file()), None)
                for absent in OVERRIDE_FILES[: OVERRIDE_FILES.index(override.name) if override else None]:
                    record_read(str(directory / absent), None)
                return [candidate, override] if override else [candidate]
            record_read(str(candidate), None)
    raise SpecError("no configuration file provided: not found",
                    hint=f"create a compose.yaml in {start} or pass -f FILE")


def _config_files(options: ProjectOptions, cwd: Path) -> list[str]:
    files = list(options.files)
    if not files and options.environment.get("COMPOSE_FILE"):
        separator = options.environment.get("COMPOSE_PATH_SEPARATOR", os.pathsep)
        files = [f for f in options.environment["COMPOSE_FILE"].split(separator) if f]
    if not files:
        start = Path(options.project_directory) if options.project_directory else cwd
        return [str(p) for p in find_files(start if start.is_absolute() else cwd / start)]
    return [f if f == "-" else os.path.normpath(os.path.join(cwd, f)) for f in files]


def read_documents(file: str, stdin: str | None = None) -> list[Document]:
    """The YAML documents of one compose file (``-`` is standard input)."""
    if file == "-":
        record_stdin()
        text = sys.stdin.read() if stdin is None else stdin
    else:
        try:
            data = Path(file).read_bytes()
            record_read(file, data)
            text = data.decode("utf-8")
        except FileNotFoundError:
            raise SpecError(f"open {file}: no such file or directory", hint="check the -f path") from None
        except (OSError, UnicodeDecodeError) as error:
            raise SpecError(f"cannot read {file}: {error}", hint="check the file") from None
    return parse_documents(text, file)


def _project_name(options: ProjectOptions, documents: list[Document], environment: Mapping[str, str],
                  working_dir: str) -> str:
    imperative = options.project_name or environment.get("COMPOSE_PROJECT_NAME")
    if imperative:
        if normalize_project_name(imperative) != imperative:
            raise SpecError(f"invalid project name \"{imperative}\": must consist only of lowercase "
                            "alphanumeric characters, hyphens, and underscores as well as start with a "
                            "letter or number", hint="pick another -p name")
        return imperative
    declared = ""
    for document in documents:
        if isinstance(document.data, dict) and isinstance(document.data.get("name"), str):
            declared = document.data["name"] or declared
    if declared and options.interpolate:
        from composer.spec.interpolate import interpolate

        declared = interpolate({"name": declared}, environment)["name"]
    name = normalize_project_name(str(declared))
    if name:
        return name
    return normalize_project_name(os.path.basename(working_dir.rstrip("/")) or "default")


def resolve_files(options: ProjectOptions) -> list[str]:
    """The compose files ``options`` designate (after -f, COMPOSE_FILE and discovery)."""
    return _config_files(options, Path(options.working_dir or os.getcwd()))


def load_model(options: ProjectOptions) -> LoadedModel:
    """Read, interpolate, merge, validate and normalize the project's files into one dict."""
    from composer.spec.dotenv import environment_for
    from composer.spec.pipeline import build_model

    cwd = Path(options.working_dir or os.getcwd())
    options = _with_dotenv_settings(options, cwd)
    files = _config_files(options, cwd)
    if options.project_directory:
        directory = Path(options.project_directory)
        working_dir = str(directory if directory.is_absolute() else cwd / directory)
    else:
        working_dir = str(Path(files[0]).parent) if files[0] != "-" else str(cwd)
    working_dir = os.path.normpath(working_dir)
    environment = environment_for(Path(working_dir), list(options.env_files), options.environment, cwd)
    documents = {file: read_documents(file, options.stdin) for file in files}
    name = _project_name(options, [d for docs in documents.values() for d in docs], environment, working_dir)
    environment["COMPOSE_PROJECT_NAME"] = name
    model, positions = build_model(documents, options, environment, working_dir, name)
    from composer.spec.dump import left_out_extensions
    from composer.spec.semantic import printed

    output = printed(model, positions)
    return LoadedModel(name, working_dir, files, environment, model, positions, output, left_out_extensions())


def _with_dotenv_settings(options: ProjectOptions, cwd: Path) -> ProjectOptions:
    """COMPOSE_FILE / COMPOSE_PROFILES / COMPOSE_PATH_SEPARATOR may come from the ``.env`` of the
    project directory (default: the current one), under the process environment."""
    from dataclasses import replace

    from composer.spec.dotenv import environment_for

    if options.files and options.profiles:
        return options
    directory = Path(options.project_directory) if options.project_directory else cwd
    directory = directory if directory.is_absolute() else cwd / directory
    try:
        environment = environment_for(directory, list(options.env_files), options.environment, cwd)
    except SpecError:
        return options  # reported later, with the file that needs it
    profiles = options.profiles
    if not profiles and environment.get("COMPOSE_PROFILES"):
        profiles = split_profiles(environment["COMPOSE_PROFILES"])
    settings = {k: environment[k] for k in ("COMPOSE_FILE", "COMPOSE_PATH_SEPARATOR") if k in environment}
    return replace(options, profiles=profiles, environment={**settings, **options.environment})


def split_profiles(text: str) -> tuple[str, ...]:
    """``COMPOSE_PROFILES``: comma-separated, blanks around names ignored (as Compose does)."""
    return tuple(name for name in (part.strip() for part in text.split(",")) if name)


def load_project(options: ProjectOptions) -> "Project":
    """The typed, immutable project described by ``options``."""
    from composer.spec.model import bind_project

    loaded = load_targeted(options)
    project = bind_project(loaded)
    return _with_unused_resources(project, loaded) if options.all_resources else project


def load_targeted(options: ProjectOptions) -> LoadedModel:
    """The model of ``options`` with the services it targets enabled whatever their profiles
    (their profiles made active, as compose-go's ``WithServicesEnabled``)."""
    loaded = load_model(options)
    profiles = _profiles_of_targets(loaded, options)
    if not profiles:
        return loaded
    from dataclasses import replace

    return load_model(replace(options, profiles=options.profiles + profiles))


def _profiles_of_targets(loaded: LoadedModel, options: ProjectOptions) -> tuple[str, ...]:
    """The profiles of the disabled services a command names (``up -d debug`` enables ``debug``'s
    profiles, as compose-go's ``WithServicesEnabled``)."""
    disabled = loaded.model.get("x-composer-disabled") or {}
    return tuple(dict.fromkeys(p for name in options.targets if name in disabled
                               for p in disabled[name].get("profiles") or () if p not in options.profiles))


def _with_unused_resources(project: "Project", loaded: LoadedModel) -> "Project":
    """The project with the networks and volumes no service uses (the printed model drops them,
    as compose-go does unless ``--all-resources``)."""
    from types import MappingProxyType

    from composer.spec.dump import shape

    declared = shape(loaded.model)
    return project._replace(**{kind: MappingProxyType({**(declared.get(kind) or {}), **getattr(project, kind)})
                                for kind in ("networks", "volumes")})


def options_from_global(global_options: "GlobalOptions", **overrides: Any) -> ProjectOptions:
    """ProjectOptions from the CLI's global flags (plus COMPOSE_PROFILES)."""
    environment = dict(os.environ)
    environment.setdefault("PWD", os.getcwd())
    profiles = list(global_options.profiles)
    if not profiles and environment.get("COMPOSE_PROFILES"):
        profiles = list(split_profiles(environment["COMPOSE_PROFILES"]))
    return ProjectOptions(
        files=tuple(global_options.files),
        project_name=global_options.project_name or None,
        project_directory=global_options.project_directory,
        profiles=tuple(profiles),
        env_files=tuple(global_options.env_files),
        environment=environment,
        **overrides,
    )


def load_project_from_options(global_options: "GlobalOptions", **overrides: Any) -> "Project":
    """The project the global flags point at (what every project command starts with)."""
    return load_project(options_from_global(global_options, **overrides))
