"""Network state on disk: one JSON file per network under ``<state root>/networks``.

Files are written to a temporary name and renamed, and every change happens under one
``flock`` (``.lock``), so concurrent composer processes and the DNS server (which only reads)
always see whole files. ``host.json`` remembers what composer changed on the host (sysctls) so
the last network's removal can put it back, even from another process after a crash.
"""

from __future__ import annotations

import fcntl
import zlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from composer.errors import NetworkError
from composer.network.model import Network
from composer.settings import DEFAULT_STATE_ROOT


def host_tag(root: Path) -> str:
    """"" for the real state root, else 4 hex digits naming it (so test roots never collide)."""
    state_root = root.parent if root.name == "networks" else root
    if str(state_root) == DEFAULT_STATE_ROOT:
        return ""
    return f"{zlib.crc32(str(state_root).encode()):08x}"[:4]


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


class NetworkStore:
    """Load, save and lock the network files of one state root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tag = host_tag(self.root)

    @property
    def table(self) -> str:
        """The nftables table that holds this root's rules."""
        return f"composer_{self.tag}" if self.tag else "composer"

    @property
    def default_bridge(self) -> str:
        return f"cm{self.tag}-default" if self.tag else "composer0"

    @property
    def bridge_prefix(self) -> str:
        """Bridges named ``<prefix><id>`` belong to this root (``cleanup`` sweeps unknown ones)."""
        return f"cm{self.tag}-"

    def bridge_name(self, net_id: str) -> str:
        return self.bridge_prefix + net_id[: 15 - len(self.bridge_prefix)]

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the state lock (exclusive) for the duration of the block."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def all(self) -> list[Network]:
        """Every stored network, oldest first."""
        if not self.root.is_dir():
            return []
        networks = []
        for path in self.root.glob("*.json"):
            if path.name == "host.json":
                continue
            try:
                networks.append(Network.from_dict(json.loads(path.read_text())))
            except (OSError, ValueError, TypeError) as error:
                raise NetworkError(f"corrupt network state file {path}: {error}",
                                   hint="remove the file and the bridge it names") from None
        return sorted(networks, key=lambda net: (net.created, net.name))

    def find(self, ref: str) -> Network | None:
        """The network named ``ref``, or whose id is or starts with ``ref``."""
        networks = self.all()
        for net in networks:
            if ref in (net.name, net.id):
                return net
        matches = [net for net in networks if net.id.startswith(ref)]
        return matches[0] if len(matches) == 1 else None

    def get(self, ref: str) -> Network:
        net = self.find(ref)
        if net is None:
            raise NetworkError(f"network {ref} not found", exit_code=1)
        return net

    def save(self, net: Network) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_json(self.root / f"{net.id}.json", net.to_dict())

    def delete(self, net: Network) -> None:
        (self.root / f"{net.id}.json").unlink(missing_ok=True)

    def host_state(self) -> dict[str, Any]:
        try:
            return json.loads((self.root / "host.json").read_text())
        except (OSError, ValueError):
            return {}

    def save_host_state(self, data: dict[str, Any]) -> None:
        if data:
            self.root.mkdir(parents=True, exist_ok=True)
            write_json(self.root / "host.json", data)
        else:
            (self.root / "host.json").unlink(missing_ok=True)
