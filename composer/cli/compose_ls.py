"""``ls``: the compose projects on this host, typer-free (a FAST_PATHS entry; typer's ``ls`` in
``compose_info`` runs the same body)."""

from __future__ import annotations

import json
from typing import Any, Optional

from composer.cli import compose as C
from composer.cli.compose_fast import TABLES, _parse, print_rows
from composer.cli.run_flags import _flags
from composer.errors import FlagError, UsageError

TABLES["ls"] = {}
_flags("bool", "-a|--all", "-q|--quiet", "--dry-run", table=TABLES["ls"])
_flags("list", "--filter", table=TABLES["ls"])
_flags("value", "--format", table=TABLES["ls"])


def ls_main(argv: list[str], obj: Any = None) -> Optional[int]:
    """``composer ls ...`` without typer; None (typer) for what the table does not know."""
    parsed = _parse("ls", argv)
    if parsed is None:
        return None
    if parsed[1]:
        raise FlagError(f'unknown command "{parsed[1][0]}" for "composer ls"')  # cobra's words
    ls_command(parsed[0])
    return 0


def ls_command(options: dict) -> None:
    """Print the projects (``-a``: stopped ones too) as a table, JSON or names (``-q``)."""
    output_format = options.get("format") or "table"
    patterns = parse_ls_filters(options.get("filter") or [])
    projects = [p for p in list_projects(bool(options.get("all"))) if project_matches(p["Name"], patterns)]
    if options.get("quiet"):
        for project in projects:
            print(project["Name"])
    elif output_format == "json":
        print(json.dumps(projects, separators=(",", ":")))
    elif output_format == "table":
        print_rows(["NAME", "STATUS", "CONFIG FILES"], [[p["Name"], p["Status"], p["ConfigFiles"]] for p in projects],
                   minimum=20)
    else:
        raise UsageError(f'format value "{output_format}" could not be parsed: parsing failed',
                         hint="use table or json")


def parse_ls_filters(filters: list[str]) -> list[str]:
    """``ls --filter name=REGEX``: the name patterns (compose knows no other filter)."""
    patterns = []
    for item in filters:
        key, equals, value = item.partition("=")
        if not equals:
            raise FlagError(f'invalid argument "{item}" for "--filter" flag: '
                            "bad format of filter (expected name=value)")
        if key != "name":
            raise UsageError(f"invalid filter '{key}'", hint="ls filters by name only")
        patterns.append(value)
    return patterns


def project_matches(name: str, patterns: list[str]) -> bool:
    """Whether a project's name equals or matches (anywhere, as Go's regexp) one of ``patterns``."""
    from composer.cli.psformat import regexp_search

    return not patterns or any(name == p or regexp_search(p, name) for p in patterns)


def list_projects(all_: bool) -> list[dict]:
    """``ls``: the projects with running containers (``all_``: with any container), each with the
    sorted ``exited(1), running(2)`` count of those containers and the union of their config files
    (newest container first), as compose lists them from ``docker ps [-a]``."""
    from composer.engine import labels as L

    found: dict = {}
    listed = C.make_runtime().list_containers({L.PROJECT: None, L.CONFIG_HASH: None}, all=all_)
    for container in sorted(listed, key=lambda c: -c.created):
        entry = found.setdefault(container.labels[L.PROJECT], {"states": {}, "files": []})
        entry["states"][container.state] = entry["states"].get(container.state, 0) + 1
        for path in container.labels.get(L.CONFIG_FILES, "").split(","):
            if path not in entry["files"]:
                entry["files"].append(path)
    return [{"Name": name, "Status": ", ".join(f"{state}({count})" for state, count in sorted(entry["states"].items())),
             "ConfigFiles": ",".join(entry["files"])} for name, entry in sorted(found.items())]
