"""The generated /etc/hostname, /etc/hosts and /etc/resolv.conf of a container."""

from __future__ import annotations

import os

HOSTS_HEAD = """127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
"""


def hosts_text(hostname: str, address: str | None, extra_hosts: list[str]) -> str:
    """The content of /etc/hosts (``extra_hosts`` as "name:ip" or "name=ip")."""
    lines = [HOSTS_HEAD.rstrip("\n")]
    for extra in extra_hosts:
        name, _, ip = extra.replace("=", ":", 1).partition(":")
        lines.append(f"{ip}\t{name}")
    if address:
        lines.append(f"{address}\t{hostname}")
    return "\n".join(lines) + "\n"


def host_resolv_conf() -> str:
    """The host's resolv.conf as docker copies it for none/host networks."""
    try:
        with open("/etc/resolv.conf") as handle:
            return handle.read()
    except OSError:
        return ""


def resolv_conf_text(base: str, servers: list[str], search: list[str], options: list[str]) -> str:
    """``base`` (the host's resolv.conf) with --dns / --dns-search / --dns-option replacing its lines."""
    kept = [line for line in base.splitlines()
            if not (servers and line.startswith("nameserver")) and not (search and line.startswith(("search", "domain")))
            and not (options and line.startswith("options"))]
    kept += [f"nameserver {server}" for server in servers]
    if search:
        kept.append("search " + " ".join(search))
    if options:
        kept.append("options " + " ".join(options))
    return "\n".join(kept) + "\n"


def write_etc_files(directory: str, hostname: str, network: str, extra_hosts: list[str],
                    address: str | None = None, resolv_conf: str | None = None) -> None:
    """Write hostname, hosts and resolv.conf into a container's state ``directory``."""
    with open(os.path.join(directory, "hostname"), "w") as handle:
        handle.write(hostname + "\n")
    if network == "host":
        try:
            with open("/etc/hosts") as handle:
                hosts = handle.read()
        except OSError:
            hosts = hosts_text(hostname, None, extra_hosts)
    else:
        hosts = hosts_text(hostname, address, extra_hosts)
    with open(os.path.join(directory, "hosts"), "w") as handle:
        handle.write(hosts)
    with open(os.path.join(directory, "resolv.conf"), "w") as handle:
        handle.write(host_resolv_conf() if resolv_conf is None else resolv_conf)
