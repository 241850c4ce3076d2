"""Image pull: composer against `skopeo copy` into containers-storage and `podman pull`.

Set-up (done here): a ~100 MB three-layer image (Debian minbase + incompressible data + text),
built once as an OCI layout and cached under /var/cache/composer-test-fixtures, pushed with
skopeo into a Debian ``docker-registry`` started on 127.0.0.1 (stopped by PID at the end).
Cases, alternating tools each round, medians:
- ``cold pull``: an empty store each run (composer: a fresh COMPOSER_ROOT; skopeo/podman: a
  fresh overlay containers-storage root).
- ``warm re-pull``: the same unchanged image again into the filled store.
The same two cases against a second registry serving TLS (a test CA from openssl, trusted via
a certs.d directory: ``COMPOSER_REGISTRY_CERTS_DIR``, skopeo's ``--src-cert-dir``, podman's
``--cert-dir``), with ``--tls`` (the default) or not with ``--no-tls``.

Run: /work/main/.venv/bin/python bench/bench_images.py [--rounds N]   (as root)
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import VENV_BIN, Outcome, save, table  # noqa: E402

from tests.fixtures.images import CACHE, build_debian_tarball  # noqa: E402
from tests.fixtures.registry import start_registry, stop_registry  # noqa: E402
from tests.integration.images.tlscerts import start_tls_registry  # noqa: E402

LAYOUT = CACHE / "bench-image-oci"
WARM_REPEATS = 5  # warm re-pulls per round (each is short and noisy)
PODMAN_CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
"""


def _tar_bytes(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _write_blob(directory: Path, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (directory / "blobs/sha256" / digest[7:]).write_bytes(data)
    return {"digest": digest, "size": len(data)}


def build_layout() -> Path:
    """The bench image as an OCI layout (built once, cached)."""
    if (LAYOUT / "index.json").exists():
        return LAYOUT
    partial = LAYOUT.with_name(LAYOUT.name + f".partial-{os.getpid()}")
    (partial / "blobs/sha256").mkdir(parents=True)
    raw_layers = [build_debian_tarball().read_bytes(), _tar_bytes("data/random.bin", os.urandom(35_000_000)),
                  _tar_bytes("data/words.txt", b"".join(b"line %d of some text\n" % i for i in range(600_000)))]
    layers, diff_ids = [], []
    for raw in raw_layers:
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       **_write_blob(partial, gzip.compress(raw, compresslevel=6, mtime=0))})
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["bash"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      **_write_blob(partial, config)}, "layers": layers}).encode()
    descriptor = {"mediaType": "application/vnd.oci.image.manifest.v1+json", **_write_blob(partial, manifest),
                  "annotations": {"org.opencontainers.image.ref.name": "bench"}}
    (partial / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [descriptor]}))
    (partial / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    os.replace(partial, LAYOUT)
    return LAYOUT


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, str | None]:
    start = time.perf_counter()
    proc = subprocess.run(argv, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    return elapsed, None if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}"


class Tools:
    """The pull command of each tool, given a store directory."""

    def __init__(self, image: str, work: Path, certs: Path | None = None) -> None:
        """``certs``: a certs.d directory holding ``<host:port>/ca.crt`` (TLS), else plain HTTP."""
        self.image = image
        (work / "containers.conf").write_text(PODMAN_CONF)
        self.podman_env = {"CONTAINERS_CONF": str(work / "containers.conf")}
        self.composer_env = {"COMPOSER_REGISTRY_CERTS_DIR": str(certs)} if certs else {}
        host_certs = str(certs / image.split("/")[0]) if certs else ""
        self.skopeo_tls = [f"--src-cert-dir={host_certs}"] if certs else ["--src-tls-verify=false"]
        self.podman_tls = [f"--cert-dir={host_certs}"] if certs else ["--tls-verify=false"]

    def commands(self, store: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
        storage = f"[overlay@{store}/root+{store}/runroot]"
        tools = {
            "composer": ([str(VENV_BIN / "composer"), "image", "pull", "-q", self.image],
                         {"COMPOSER_ROOT": str(store), **self.composer_env}),
            "skopeo": (["skopeo", "copy", "-q", *self.skopeo_tls, f"docker://{self.image}",
                        f"containers-storage:{storage}{self.image}"], {}),
        }
        if shutil.which("podman"):
            tools["podman"] = (["podman", "--root", f"{store}/root", "--runroot", f"{store}/runroot",
                                "--storage-driver", "overlay", "pull", "-q", *self.podman_tls, self.image],
                               self.podman_env)
        return tools


def _clean(store: Path) -> None:
    """Unmount what containers-storage mounted below ``store`` (deepest first), then remove it."""
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(f"{store}/")]
    for point in sorted(points, reverse=True):
        subprocess.run(["umount", point], capture_output=True)
    shutil.rmtree(store, ignore_errors=True)


def run(rounds: int, work: Path, tools: Tools, suffix: str = "") -> dict[str, dict[str, Outcome]]:
    """Cold pull and warm re-pulls of each tool, alternating; cases named with ``suffix``."""
    names = list(tools.commands(work).keys())
    cold, warm = f"cold pull{suffix}", f"warm re-pull{suffix}"
    outcomes = {case: {name: Outcome() for name in names} for case in (cold, warm)}
    for round_index in range(rounds):
        for name in names:
            store = work / f"{name}-{round_index}"
            store.mkdir()
            argv, env = tools.commands(store)[name]
            for case in (cold,) + (warm,) * WARM_REPEATS:
                elapsed, error = timed(argv, env)
                outcome = outcomes[case][name]
                outcome.seconds.append(elapsed)
                outcome.failure = outcome.failure or error
            _clean(store)
    return outcomes


def warm_in_process(image: str, work: Path) -> float:
    """Median seconds of a warm re-pull called as a library (no process start-up)."""
    os.environ["COMPOSER_ROOT"] = str(work / "inproc")
    from composer.engine.images.pull import pull

    pull(image)
    samples = []
    for _ in range(10):
        start = time.perf_counter()
        pull(image)
        samples.append(time.perf_counter() - start)
    _clean(work / "inproc")
    return sorted(samples)[len(samples) // 2]


def run_tls(rounds: int, work: Path, layout: Path, processes: list) -> dict[str, dict[str, Outcome]]:
    """The cases against a TLS registry trusted through a certs.d directory."""
    (work / "tls").mkdir()
    registry, process = start_tls_registry(work / "tls")
    processes.append(process)
    certs = work / "certs.d"
    (certs / registry.host).mkdir(parents=True)
    shutil.copy(work / "tls/test-ca.crt", certs / registry.host / "ca.crt")
    image = f"{registry.host}/bench/image:1"
    subprocess.run(["skopeo", "copy", "-q", f"--dest-cert-dir={certs / registry.host}", f"oci:{layout}:bench",
                    f"docker://{image}"], check=True)
    return run(rounds, work / "tls", Tools(image, work / "tls", certs), " (TLS)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tls", action=argparse.BooleanOptionalAction, default=True,
                        help="also pull from a TLS registry (default: yes)")
    args = parser.parse_args()
    layout = build_layout()
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-images-"))
    processes = []
    try:
        registry, process = start_registry(work / "registry")
        processes.append(process)
        image = f"{registry.host}/bench/image:1"
        subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:bench",
                        f"docker://{image}"], check=True)
        outcomes = run(args.rounds, work, Tools(image, work))
        inproc = warm_in_process(image, work)
        if args.tls:
            outcomes.update(run_tls(args.rounds, work, layout, processes))
    finally:
        for process in processes:
            stop_registry(process)
        _clean(work)
    size = sum(p.stat().st_size for p in (layout / "blobs/sha256").iterdir())
    load = os.getloadavg()[0]
    print(f"image: 3 layers, {size / 1e6:.0f} MB compressed; rounds: {args.rounds}; load average {load:.1f}")
    print(table(outcomes))
    print(f"warm re-pull, composer as a library (no process start-up): {inproc * 1000:.1f} ms")
    path = save("images", outcomes, {"compressed_bytes": size, "rounds": args.rounds,
                                     "warm_in_process_s": inproc, "load_average": load})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
