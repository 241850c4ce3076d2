"""Network state on disk: one JSON file per network under ``<state root>/networks``.

Files are written to a temporary name and renamed, and every change happens under one
``flock`` (``.lock``), so concurrent composer processes and the DNS server (which only reads)
always see whole files. ``host.json`` remembers what composer changed on the host (sysctls) so
the last network's removal can put it back, even from another process after a crash.
"""

from __future__ import annotations

import fcntl
import os
import zlib

from composer.engine.runtime.state import read_json, write_json_atomic
from composer.errors import NetworkError
from composer.network.model import Network
from composer.settings import DEFAULT_STATE_ROOT

TYPE_CHECKING = False  # typing and pathlib stay off ``container run``'s path
if TYPE_CHECKING:
    import contextlib
    from pathlib import Path


def host_tag(root: str) -> str:
    """"" for the real state root, else 4 hex digits naming it (so test roots never collide)."""
    state_root = os.path.dirname(root) if os.path.basename(root) == "networks" else root
    if state_root == DEFAULT_STATE_ROOT:
        return ""
    return f"{zlib.crc32(str(state_root).encode()):08x}"[:4]


class NetworkNotFound(NetworkError):
    """No stored network has that name or id."""


class NetworkStore:
    """Load, save and lock the network files of one state root."""

    def __init__(self, root: "str | Path") -> None:
        self.dir = os.path.normpath(os.fspath(root))
        self.tag = host_tag(self.dir)

    @property
    def root(self) -> "Path":
        """The state folder as a Path (for the DNS server and its control)."""
        from pathlib import Path

        return Path(self.dir)

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

    def locked(self) -> "contextlib.AbstractContextManager[None]":
        """Hold the state lock (exclusive) for the duration of the block."""
        os.makedirs(self.dir, exist_ok=True)
        return _FileLock(os.path.join(self.dir, ".lock"))

    def all(self) -> list[Network]:
        """Every stored network, oldest first."""
        try:
            names = os.listdir(self.dir)
        except OSError:
            return []
        networks = []
        for name in names:
            if not name.endswith(".json") or name == "host.json" or name.startswith("."):
                continue
            path = os.path.join(self.dir, name)
            try:
                networks.append(Network.from_dict(read_json(path)))
            except FileNotFoundError:
                continue  # removed since the listing (another removal, unlocked readers): not corrupt
            except (OSError, ValueError, TypeError) as error:
                raise NetworkError(f"corrupt network state file {path}: {error}",
                                   hint="remove the file and the bridge it names") from None
        return sorted(networks, key=lambda net: (net.created, net.name))

    def find(self, ref: str, networks: list[Network] | None = None) -> Network | None:
        """The network named ``ref``, or whose id is or starts with ``ref`` (among ``networks``
        when the caller has read them already)."""
        networks = self.all() if networks is None else networks
        for net in networks:
            if ref in (net.name, net.id):
                return net
        matches = [net for net in networks if net.id.startswith(ref)]
        return matches[0] if len(matches) == 1 else None

    def get(self, ref: str, networks: list[Network] | None = None) -> Network:
        net = self.find(ref, networks)
        if net is None:
            raise NetworkNotFound(f"network {ref} not found", exit_code=1)
        return net

    def save(self, net: Network) -> None:
        os.makedirs(self.dir, exist_ok=True)
        write_json_atomic(os.path.join(self.dir, f"{net.id}.json"), net.to_dict())

    def delete(self, net: Network) -> None:
        _unlink(os.path.join(self.dir, f"{net.id}.json"))

    def host_state(self) -> dict[str, object]:
        try:
            return read_json(os.path.join(self.dir, "host.json"))
        except (OSError, ValueError):
            return {}

    def save_host_state(self, data: dict[str, object]) -> None:
        if data:
            os.makedirs(self.dir, exist_ok=True)
            write_json_atomic(os.path.join(self.dir, "host.json"), data)
        else:
            _unlink(os.path.join(self.dir, "host.json"))


HOST_LOCK = "/run/composer-networks.lock"


class _FileLock:  # a class, not @contextmanager: contextlib stays off ``container run``
    """An exclusive ``flock`` on ``path`` for the duration of a ``with`` block."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.handle: "object | None" = None

    def __enter__(self) -> None:
        self.handle = open(self.path, "a+")
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()  # type: ignore[union-attr]


def host_locked() -> "contextlib.AbstractContextManager[None]":
    """The host-wide lock of every state root, held while a subnet is picked and its bridge made:
    two roots creating networks at once (parallel tests, two ``COMPOSER_ROOT``s) would otherwise
    both see 172.17.0.0/16 free and both take it. Taken after a root's own lock, never before."""
    return _FileLock(HOST_LOCK)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
