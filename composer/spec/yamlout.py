"""YAML text of the printed model, laid out as Docker Compose prints it (Go struct field order,
sorted map keys, indented sequences, double quotes only where a plain scalar would be misread)."""

from __future__ import annotations

import re
from functools import cmp_to_key
from typing import TYPE_CHECKING, Any

from composer.spec.source import Path, resolve_plain
from composer.spec.treepath import Cursor, Rules, cursor

if TYPE_CHECKING:
    import yaml  # imported by the first dump: hashing a service (arrange_service) does not need it

_S = "services.*"
_SERVICE = (
    "profiles annotations attach build develop blkio_config cap_add cap_drop cgroup_parent cgroup cpu_count "
    "cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpus cpuset cpu_shares command configs "
    "container_name credential_spec depends_on deploy device_cgroup_rules devices dns dns_opt dns_search "
    "dockerfile domainname entrypoint provider environment env_file expose extends external_links extra_hosts "
    "group_add gpus hostname healthcheck image init ipc isolation labels label_file links logging log_driver "
    "log_opt mem_limit mem_reservation memswap_limit mem_swappiness mac_address models net network_mode "
    "networks oom_kill_disable oom_score_adj pid pids_limit platform ports privileged pull_policy read_only "
    "restart runtime scale secrets security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt "
    "sysctls tmpfs tty ulimits use_api_socket user userns_mode uts volume_driver volumes volumes_from "
    "working_dir pre_start post_start pre_stop"
)
_MOUNT = "source target uid gid mode"
_ULIMIT = "soft hard"  # YAML always prints both (JSON omits zeros)
_BLKIO_DEVICE = "Path Rate Weight"  # Go field names: JSON prints them so, YAML in lower case
ORDERS: dict[str, str] = {
    "": "name services networks volumes secrets configs models",
    _S: _SERVICE,
    _S + ".ports.[]": "name mode host_ip target published protocol app_protocol",
    _S + ".volumes.[]": "type source target read_only consistency bind volume tmpfs image",
    _S + ".healthcheck": "test timeout interval retries start_period start_interval disable",
    _S + ".depends_on.*": "condition restart required",
    _S + ".build": "context dockerfile dockerfile_inline entitlements args provenance sbom ssh labels cache_from "
                   "cache_to no_cache no_cache_filter additional_contexts pull extra_hosts isolation network "
                   "target secrets shm_size tags ulimits platforms privileged",
    _S + ".volumes.[].bind": "selinux propagation create_host_path recursive",
    _S + ".volumes.[].volume": "labels nocopy subpath",
    _S + ".volumes.[].tmpfs": "size mode",
    _S + ".deploy.update_config": "parallelism delay failure_action monitor max_failure_ratio order",
    _S + ".deploy.rollback_config": "parallelism delay failure_action monitor max_failure_ratio order",
    _S + ".deploy.restart_policy": "condition delay max_attempts window",
    _S + ".deploy.resources": "limits reservations",
    _S + ".deploy.resources.*": "cpus memory pids devices generic_resources",
    _S + ".deploy.resources.*.devices.[]": "capabilities driver count device_ids options",
    _S + ".deploy.placement": "constraints preferences max_replicas_per_node",
    _S + ".develop.watch.[]": "path action target exec include ignore initial_sync",
    "networks.*.ipam": "driver config options",
    "networks.*.ipam.config.[]": "subnet gateway ip_range aux_addresses",
    _S + ".deploy": "mode replicas labels update_config rollback_config resources restart_policy placement "
                    "endpoint_mode",
    _S + ".logging": "driver options",
    _S + ".networks.*": "aliases driver_opts gw_priority interface_name ipv4_address ipv6_address "
                        "link_local_ips mac_address priority",
    _S + ".secrets.[]": _MOUNT,
    _S + ".configs.[]": _MOUNT,
    _S + ".ulimits.*": _ULIMIT,
    _S + ".build.ulimits.*": _ULIMIT,
    _S + ".devices.[]": "source target permissions",
    _S + ".blkio_config": "weight weight_device device_read_bps device_read_iops device_write_bps "
                          "device_write_iops",
    _S + ".blkio_config.*.[]": _BLKIO_DEVICE,
    _S + ".env_file.[]": "path required format",
    _S + ".gpus.[]": "capabilities driver count device_ids options",
    _S + ".provider": "type options",
    _S + ".post_start.[]": "command user privileged working_dir environment",
    _S + ".pre_stop.[]": "command user privileged working_dir environment",
    _S + ".models.*": "endpoint_var model_var",
    "models.*": "name model context_size runtime_flags",
    "networks.*": "name driver driver_opts ipam external internal attachable labels enable_ipv4 enable_ipv6",
    "volumes.*": "name driver driver_opts external labels",
    "secrets.*": "name file environment content external labels driver driver_opts template_driver",
    "configs.*": "name file environment content external labels driver driver_opts template_driver",
}
_ORDER_RULES: Rules[str] = Rules({k: v for k, v in ORDERS.items() if k})
# value-type structs Compose prints in JSON but omits from YAML when empty
_YAML_OMIT_EMPTY = {"ipam", "placement", "resources", "exec"}


def _digits_value(text: str, start: int, leading: int) -> tuple[int, int]:
    """The number of the digit run at ``start`` (``leading``: what digits before it contribute) and its end."""
    end, number = start, leading
    while end < len(text) and text[end].isdigit():
        number, end = number * 10 + int(text[end]), end + 1
    return number, end


def _yaml_compare(a: str, b: str) -> int:
    """yaml.v3's map key order (its keyList.Less): letters after other characters, except right
    after equal digits; digit runs compare as numbers (``svc2`` before ``svc10``)."""
    digits = False
    for i, (x, y) in enumerate(zip(a, b)):
        if x == y:
            digits = x.isdigit()
            continue
        x_letter, y_letter = x.isalpha(), y.isalpha()
        if x_letter and y_letter:
            return -1 if x < y else 1
        if x_letter or y_letter:
            first = x_letter if digits else y_letter
            return -1 if first else 1
        leading = 1 if (x == "0" or y == "0") and re.search(r"[1-9]\d*$", a[:i]) else 0
        x_number, x_end = _digits_value(a, i, leading)
        y_number, y_end = _digits_value(b, i, leading)
        if x_number != y_number:
            return -1 if x_number < y_number else 1
        if x_end != y_end:
            return -1 if x_end < y_end else 1
        return -1 if x < y else 1
    return (len(a) > len(b)) - (len(a) < len(b))


_natural = cmp_to_key(lambda a, b: _yaml_compare(str(a), str(b)))


def _arrange(value: Any, path: Path, at: Cursor[str], keep_json: bool = False) -> Any:
    """``value`` with keys in Compose's order; YAML-only omissions unless ``keep_json``."""
    if isinstance(value, list):
        return [_arrange(v, (*path, i), at.child(i), keep_json) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    order = ORDERS[""] if not path else at.value
    if order == _ULIMIT and not keep_json:
        value = {"soft": 0, "hard": 0, **value}
    plain = str if keep_json else _natural  # encoding/json sorts map keys bytewise, yaml.v3 naturally
    if order is None:
        keys = sorted(value, key=plain)
    else:
        rank = {k: i for i, k in enumerate(order.split())}
        keys = sorted(value, key=lambda k: (rank.get(k, len(rank)), plain(k)))
    result = {}
    for key in keys:
        item = value[key]
        if not keep_json and order is not None and (
                item == {} and key in _YAML_OMIT_EMPTY or item == {"command": None}
                or (key in ("command", "entrypoint") and item is None)):
            continue
        name = key.lower() if order == _BLKIO_DEVICE and not keep_json else key
        result[name] = _arrange(item, (*path, key), at.child(key), keep_json)
    return result


def arrange_service(name: str, service: dict[str, Any]) -> dict[str, Any]:
    """A printed service with its keys in Go struct order (what ``json.Marshal`` writes)."""
    path = ("services", name)
    at = cursor(_ORDER_RULES).child("services").child(name)
    return _arrange(service, path, at, keep_json=True)


_YAML11_BOOLS = {v for w in ("y", "yes", "n", "no", "on", "off") for v in (w, w.upper(), w.capitalize())}
# what yaml.v3 reads as a timestamp (its four time layouts) or a YAML 1.1 base-60 float: double-quoted
_TIMESTAMP_OR_BASE60 = re.compile(
    r"\d{4}-\d\d?-\d\d?(?:[Tt]\d\d?:\d\d?:\d\d?(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)| \d\d?:\d\d?:\d\d?(?:\.\d+)?)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


def _ambiguous(text: str) -> bool:
    """Whether yaml.v3 double-quotes ``text``: a plain scalar would read back as another type."""
    return not isinstance(resolve_plain(text), str) or text in _YAML11_BOOLS \
        or _TIMESTAMP_OR_BASE60.fullmatch(text) is not None


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    if "\n" in text:
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|")
    # yaml.v3 double-quotes what would read back as another type, single-quotes what is only
    # syntactically special (PyYAML's emitter makes the same second choice)
    style = '"' if _ambiguous(text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_DUMPER: list[Any] = []


def _dumper() -> Any:
    """The C emitter (fast); :func:`_indent_sequences` then indents sequences as yaml.v3 does."""
    if not _DUMPER:
        import yaml

        class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
            pass

        _Dumper.add_representer(str, _represent_str)
        # PyYAML quotes "=", "<<" and timestamps (YAML 1.1 types); yaml.v3 prints them plain
        # (the timestamps it does quote, _ambiguous double-quotes)
        _Dumper.yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":value", ":merge", ":timestamp"))]
            for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()}
        _DUMPER.append(_Dumper)
    return _DUMPER[0]


# stands for a tab inside literal blocks while PyYAML emits them (a private-use character, which
# compose files do not hold), put back after; yaml.v3 writes tabs in literal blocks as they are
_TAB = "\ue000"
_STR, _NULL, _BOOL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"


def _node(value: Any, yaml: Any) -> yaml.Node:
    """The node PyYAML's SafeRepresenter would build for ``value`` (block style, no aliases),
    built directly: the representer's generic dispatch is most of the cost of printing YAML.
    ``yaml`` is the module, passed down (an import statement per node cost a third of the time)."""
    if isinstance(value, str):
        if "\n" in value:  # a literal block, tabs included (PyYAML would double-quote a tab: see to_yaml)
            return yaml.ScalarNode(_STR, value.replace("\t", _TAB), style="|")
        return yaml.ScalarNode(_STR, value, style='"' if _ambiguous(value) else None)
    if isinstance(value, dict):
        pairs = [(_node(k, yaml), _node(v, yaml)) for k, v in value.items()]
        return yaml.MappingNode("tag:yaml.org,2002:map", pairs, flow_style=False)
    if isinstance(value, list):
        return yaml.SequenceNode("tag:yaml.org,2002:seq", [_node(v, yaml) for v in value], flow_style=False)
    if value is None:
        return yaml.ScalarNode(_NULL, "null")
    if isinstance(value, bool):
        return yaml.ScalarNode(_BOOL, "true" if value else "false")
    if isinstance(value, int):
        return yaml.ScalarNode("tag:yaml.org,2002:int", str(value))
    return yaml.representer.SafeRepresenter().represent_data(value)  # floats: PyYAML's spelling (.inf, 1.0e+17)


def arrange(output: dict[str, Any], keep_json: bool = False) -> dict[str, Any]:
    """A printed model with every key in Compose's order (top-level keys as given)."""
    at = cursor(_ORDER_RULES)
    return {k: _arrange(v, (k,), at.child(k), keep_json) for k, v in output.items()}


def _indent_sequences(text: str) -> str:
    """Shift every block sequence (``- item`` lines and their content) 2 columns right of its key.

    PyYAML writes ``key:\n- a``; Go's yaml.v3 writes ``key:\n  - a``. Each line moves by 2 per
    sequence it sits in; literal block content moves with its item.
    """
    out: list[str] = []
    dashes: list[int] = []  # original columns of the enclosing sequences' dashes
    block = -1  # column of the line that opened a literal block scalar (-1: none open)
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        column = len(line) - len(stripped)
        if block >= 0 and (not stripped or column > block):
            out.append(" " * (2 * len(dashes)) + line if stripped else line)
            continue
        block = column if stripped.endswith(("|", "|-", "|+")) else -1
        if stripped:
            item = stripped.startswith("- ") or stripped == "-"
            while dashes and (column < dashes[-1] or (column == dashes[-1] and not item)):
                dashes.pop()
            if item and (not dashes or dashes[-1] != column):
                dashes.append(column)
        out.append(" " * (2 * len(dashes)) + line if stripped else line)
    return "\n".join(out)


def to_yaml(output: dict[str, Any], arranged: bool = False) -> str:
    """The YAML text of a printed model (``arranged``: keep the keys' order as given)."""
    import yaml

    arranged = output if arranged else _arrange(output, (), cursor(_ORDER_RULES))
    text = yaml.serialize(_node(arranged, yaml), Dumper=_dumper(), allow_unicode=True, width=1 << 20, indent=2)
    return _indent_sequences(text.rstrip("\n")).replace(_TAB, "\t")
