"""Typer-free ``volume ls`` and ``volume inspect`` (scripts call them in loops), and the volume
helpers the typer commands of ``composer.cli.volumes`` share."""

from __future__ import annotations

import sys

from composer.cli.run_flags import _flags, parse_verb

VOLUME_TABLE = "table {{.Driver}}\t{{.Name}}"
VOLUME_HEADERS = {"Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT", "Scope": "SCOPE",
                  "Labels": "LABELS", "Size": "SIZE", "Links": "LINKS", "Status": "STATUS",
                  "Availability": "AVAILABILITY", "Group": "GROUP"}


TABLES: dict[str, dict] = {"ls": {}, "inspect": {}}
_flags("bool", "-q|--quiet", table=TABLES["ls"])
_flags("list", "-f|--filter", table=TABLES["ls"])
_flags("value", "--format", table=TABLES["ls"])
_flags("value", "-f|--format", table=TABLES["inspect"])


def _in_use() -> set[str]:
    """Volume names referenced by any container (running or stopped), as docker refuses to remove them."""
    from composer.engine.runtime.state import ContainerDir, list_container_ids

    names: set[str] = set()
    for container_id in list_container_ids():
        try:
            config = ContainerDir(container_id).read_config()
        except (OSError, ValueError):
            continue
        names.update(m["source"] for m in config.get("mounts", []) if m.get("type") == "volume")
    names.discard("")
    return names


def _store():
    from composer.engine.volumes import VolumeStore

    return VolumeStore()


def _get(name: str) -> dict:
    """The volume's inspect dict; docker's ``get NAME: no such volume`` when there is none."""
    from composer.errors import VolumeError

    try:
        return _store().inspect(name)
    except VolumeError:
        raise VolumeError(f"get {name}: no such volume") from None


def inspect_shape(meta: dict) -> dict:
    """docker's ``volume inspect`` values: null Labels/Options when there are none, CreatedAt in seconds."""
    created = meta.get("CreatedAt", "")
    options = dict(sorted((meta.get("Options") or {}).items()))  # (a Go map: keys sorted)
    shaped = {**meta, "Labels": meta.get("Labels") or None, "Options": options or None,
              "CreatedAt": created.partition(".")[0] + "Z" if "." in created else created}
    return {key: shaped[key] for key in sorted(shaped)}  # the Go struct's field order


def ls_row(meta: dict) -> dict:
    """docker volume ls --format json's fields for one volume."""
    from composer.cli.render import labels_text

    return {"Availability": "N/A", "Driver": meta["Driver"], "Group": "N/A",
            "Labels": labels_text(meta.get("Labels")), "Links": "N/A",
            "Mountpoint": meta["Mountpoint"], "Name": meta["Name"], "Scope": meta.get("Scope", "local"),
            "Size": "N/A", "Status": "N/A",
            "Label": lambda key: (meta.get("Labels") or {}).get(key, "")}


def volume_filters(filters: list[str]) -> dict[str, list[str]]:
    """``--filter dangling=true|false|name=N|driver=D|label=K[=V]`` grouped by key (docker's
    keys and values; a bad one is refused before anything is listed)."""
    from composer.cli.psformat import parse_filters
    from composer.errors import FilterError

    groups = parse_filters(filters, ("dangling", "name", "driver", "label"), {}, "volume ls")
    if any(value.lower() not in ("true", "false", "1", "0") for value in groups.get("dangling", ())):
        raise FilterError(f"Invalid filter 'dangling=[{' '.join(groups['dangling'])}]'")  # dockerd's words
    return groups


def volume_matches(meta: dict, groups: dict[str, list[str]], in_use: set[str]) -> bool:
    """Whether the volume passes ``volume_filters``' groups (same key: any value; keys: all)."""
    labels = meta.get("Labels") or {}

    def one(key: str, value: str) -> bool:
        if key == "dangling":
            return (meta["Name"] not in in_use) == (value.lower() in ("true", "1"))
        if key == "name":
            return value in meta["Name"]
        if key == "driver":
            return meta["Driver"] == value
        name, sep, wanted = value.partition("=")
        return name in labels and (not sep or labels[name] == wanted)

    return all(any(one(key, value) for value in values) for key, values in groups.items())


def _users(name: str) -> list[str]:
    """Ids of the containers that mount volume ``name``."""
    from composer.engine.runtime.state import ContainerDir, list_container_ids

    users = []
    for container_id in list_container_ids():
        try:
            mounts = ContainerDir(container_id).read_config().get("mounts", [])
        except (OSError, ValueError):
            continue
        if any(m.get("type") == "volume" and m.get("source") == name for m in mounts):
            users.append(container_id)
    return users


def run(verb: str, names: list[str], quiet: bool = False, filters: list[str] = (), output_format: str = "") -> int:
    """``volume ls`` or ``volume inspect``; the exit code."""
    if verb == "inspect":
        from composer.cli.render import inspect_each
        from composer.errors import VolumeError

        return inspect_each(names, lambda name: inspect_shape(_get(name)), VolumeError, output_format, strict=True,
                            context="volume.Volume", escape_html=True)
    from composer.cli.psformat import render

    groups = volume_filters(list(filters))
    in_use = _in_use() if "dangling" in groups else set()
    volumes = [meta for meta in _store().list() if volume_matches(meta, groups, in_use)]
    template = "{{.Name}}" if quiet else output_format if output_format not in ("", "table") else VOLUME_TABLE
    sys.stdout.write("".join(line + "\n" for line in render([ls_row(m) for m in volumes], template,
                                                               VOLUME_HEADERS, True, "*formatter.volumeContext")))
    return 0


def _main(verb: str):
    def main(argv: list[str]) -> int | None:
        parsed = parse_verb(argv, TABLES[verb], f"volume {verb}")
        if parsed is None:
            return None  # the typer command's help
        from composer.cli.render import daemon_errors

        options, names = parsed
        return daemon_errors(run)(verb, names, options.get("quiet", False), options.get("filter", []),
                                  options.get("format", ""))
    return main


ls_main, inspect_main = _main("ls"), _main("inspect")
