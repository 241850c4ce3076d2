"""`container run --rm --network none busybox true`: composer against docker, podman, runc, crun
and the kernel floor, alternating tools each round (median of 30 by default).

Set-up (done here, undone at the end): a busybox rootfs from busybox-static; composer's image in a
temporary COMPOSER_ROOT; peers from Debian packages (installed if missing); dockerd started on a
private socket and data root with ``--bridge=none --iptables=false`` (so it leaves no docker0 or
iptables chains) and stopped by PID; podman with its own storage and containers.conf (PEERS.md's
nofile and runc settings); runc/crun bundles made with ``runc spec``. A peer that cannot be set up
is reported and skipped.

Run: /work/main/.venv/bin/python bench/bench_run.py [--rounds N]   (as root)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import VENV_BIN, Case, measure, report  # noqa: E402

from tests.fixtures.rootfs import build_busybox_rootfs, busybox_tarball  # noqa: E402

PACKAGES = ["docker.io", "containerd", "runc", "crun", "podman", "busybox-static"]
PODMAN_CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
"""


def ensure_packages(notes: list[str]) -> None:
    """apt-get install the peers that are missing (a failure is noted, not fatal)."""
    missing = [p for p in PACKAGES if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode]
    if not missing:
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    result = subprocess.run(["apt-get", "install", "-y", "-q", *missing], capture_output=True, text=True, env=env)
    if result.returncode:
        notes.append(f"apt-get install {' '.join(missing)} failed: {result.stderr.strip()[-200:]}")


def setup_composer(work: Path, tarball: Path) -> dict[str, str]:
    """A COMPOSER_ROOT with busybox:latest imported; returns the env for the composer runs."""
    root = work / "composer-root"
    env = dict(os.environ, COMPOSER_ROOT=str(root))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(VENV_BIN.parents[1] / "composer")],
                   check=True, stdout=subprocess.DEVNULL)  # as an installed package would be
    subprocess.run([sys.executable, "-c", "import sys; from composer.engine.images.store import ImageStore;"
                    f"ImageStore().import_rootfs({str(tarball)!r}, 'busybox:latest', ('CMD [\"sh\"]',))"],
                   env=env, check=True)
    return {"COMPOSER_ROOT": str(root)}


def start_dockerd(work: Path, tarball: Path, notes: list[str],
                  flags: tuple[str, ...] = ("--bridge=none", "--iptables=false", "--ip6tables=false"),
                  ) -> tuple[subprocess.Popen | None, str]:
    """dockerd on a private socket; returns (process, DOCKER_HOST) or (None, "") if it fails."""
    if not shutil.which("dockerd"):
        notes.append("docker: dockerd not installed")
        return None, ""
    host = f"unix://{work}/docker.sock"
    log = open(work / "dockerd.log", "w")
    bridges_before = _docker_bridges()
    process = subprocess.Popen(["dockerd", "-H", host, "--data-root", str(work / "docker"),
                                "--exec-root", str(work / "docker-exec"), "--pidfile", str(work / "docker.pid"),
                                *flags],
                               stdout=log, stderr=subprocess.STDOUT)
    process.bridges_before = bridges_before  # stop() removes the bridges this dockerd leaves behind
    process.docker_host = host
    env = dict(os.environ, DOCKER_HOST=host)
    for _ in range(300):
        if subprocess.run(["docker", "info"], env=env, capture_output=True).returncode == 0:
            subprocess.run(["docker", "import", str(tarball), "busybox:bench"], env=env, check=True,
                           capture_output=True)
            return process, host
        if process.poll() is not None:
            break
        time.sleep(0.1)
    notes.append(f"docker: dockerd did not come up (see {work}/dockerd.log)")
    stop(process)
    return None, ""


def setup_podman(work: Path, tarball: Path, notes: list[str]) -> list[str] | None:
    """podman with private storage; returns its argv prefix."""
    if not shutil.which("podman"):
        notes.append("podman: not installed")
        return None
    conf = work / "containers.conf"
    conf.write_text(PODMAN_CONF)
    os.environ["CONTAINERS_CONF"] = str(conf)
    prefix = ["podman", "--root", str(work / "podman"), "--runroot", str(work / "podman-run"),
              "--storage-driver", "overlay"]
    result = subprocess.run([*prefix, "import", str(tarball), "busybox:bench"], capture_output=True, text=True)
    if result.returncode:
        notes.append(f"podman: import failed: {result.stderr.strip()[-200:]}")
        return None
    return prefix


def make_bundle(work: Path, rootfs: Path) -> Path | None:
    """An OCI bundle running /bin/true (``runc spec``, rootfs copied, terminal off)."""
    if not shutil.which("runc"):
        return None
    bundle = work / "bundle"
    bundle.mkdir()
    shutil.copytree(rootfs, bundle / "rootfs", symlinks=True)
    subprocess.run(["runc", "spec"], cwd=bundle, check=True)
    spec = json.loads((bundle / "config.json").read_text())
    spec["process"]["args"] = ["/bin/true"]
    spec["process"]["terminal"] = False
    (bundle / "config.json").write_text(json.dumps(spec))
    return bundle


def _docker_bridges() -> set[str]:
    """docker's bridges on the host (``docker0``, ``br-<network id>``)."""
    names = os.listdir("/sys/class/net")
    return {name for name in names if name == "docker0" or (name.startswith("br-") and len(name) == 15)}


def _own_bridges(process: subprocess.Popen) -> set[str]:
    """The bridges of the running dockerd ``process`` (its bridge networks, asked on its socket):
    not those of a dockerd another benchmark started meanwhile."""
    host = getattr(process, "docker_host", "")
    if not host or process.poll() is not None:
        return set()
    listed = subprocess.run(["docker", "-H", host, "network", "ls", "--filter", "driver=bridge",
                             "--format", "{{.ID}} {{.Name}}"], capture_output=True, text=True).stdout
    return {"docker0" if name == "bridge" else f"br-{network_id[:12]}"
            for network_id, _, name in (line.partition(" ") for line in listed.splitlines() if line)}


def stop(process: subprocess.Popen | None) -> None:
    """Stop a daemon we started, by its PID (a dockerd's leftover bridges go with it)."""
    if process is None:
        return
    own = _own_bridges(process)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for name in own & (_docker_bridges() - getattr(process, "bridges_before", set())):
        subprocess.run(["ip", "link", "del", name], capture_output=True)


def commands(work: Path, rootfs: Path, tarball: Path, notes: list[str]) -> tuple[dict, dict, subprocess.Popen | None]:
    """The argv of every tool for the one case, its env, and dockerd's process."""
    env = setup_composer(work, tarball)
    argv: dict[str, list[str]] = {
        "composer": [str(VENV_BIN / "composer"), "container", "run", "--rm", "--network", "none", "busybox", "true"]}
    dockerd, host = start_dockerd(work, tarball, notes)
    if dockerd is not None:
        argv["docker"] = ["docker", "-H", host, "run", "--rm", "--network", "none", "busybox:bench", "true"]
    podman = setup_podman(work, tarball, notes)
    if podman is not None:
        argv["podman"] = [*podman, "run", "--rm", "--network", "none", "busybox:bench", "true"]
    bundle = make_bundle(work, rootfs)
    if bundle is not None:
        argv["runc"] = ["sh", "-c", f"exec runc --root {work}/runc run -b {bundle} bench-$$"]
        if shutil.which("crun"):
            argv["crun"] = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                            f"umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root {work}/crun run -b {bundle} bench-$$"]
            notes.append("crun: run inside `unshare -m` with the empty cgroup2 unmounted (PEERS.md)")
    else:
        notes.append("runc/crun: runc not installed")
    argv["floor"] = ["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "--mount-proc",
                     "chroot", str(rootfs), "/bin/true"]
    return argv, env, dockerd


def cgroup_dirs() -> set[str]:
    """Top-level cgroup directories of every hierarchy (peers create docker/, libpod_parent/ ...)."""
    import glob

    return set(glob.glob("/sys/fs/cgroup/*/*/")) | set(glob.glob("/sys/fs/cgroup/unified/*/"))


def remove_new_cgroups(before: set[str], patience: float = 15) -> None:
    """rmdir the cgroups the peers left behind, deepest first (podman's cleanup runs late).
    composer's own parents (``composer/``) stay: other users' containers may be starting under them."""
    import glob

    before = before | set(glob.glob("/sys/fs/cgroup/*/composer/"))
    deadline = time.monotonic() + patience
    while cgroup_dirs() - before and time.monotonic() < deadline:
        for top in sorted(cgroup_dirs() - before):
            for current, _, _ in sorted(os.walk(top), key=lambda entry: -entry[0].count("/")):
                try:
                    os.rmdir(current)
                except OSError:
                    pass
        time.sleep(0.5)


def begin(description: str, prefix: str, rounds: int, add_options: Callable[[argparse.ArgumentParser], None] | None = None,
          ) -> tuple[argparse.Namespace, list[str], Path, set[str]]:
    """A benchmark's start: its ``--rounds`` option (``rounds`` by default) and ``add_options``'
    own, the notes (missing peers installed, a failure noted), a new work tree and the cgroups
    present before (see ``teardown``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=rounds)
    if add_options:
        add_options(parser)
    options = parser.parse_args()
    notes: list[str] = []
    ensure_packages(notes)
    compile_composer()
    return options, notes, Path(tempfile.mkdtemp(prefix=prefix)), cgroup_dirs()


def compile_composer() -> None:
    """Write composer's bytecode before measuring: where PYTHONDONTWRITEBYTECODE is set (as in
    this project's own VMs), a module edited since its .pyc would be compiled again on every run,
    which no user installing composer pays."""
    package = Path(__file__).resolve().parent.parent / "composer"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


STORES = ("docker", "docker-exec", "podman", "podman-run")  # what the peers may leave mounted in the work tree


def teardown(work: Path, dockerd: subprocess.Popen | None, cgroups_before: set[str]) -> None:
    """Stop dockerd by PID, remove the networks of the composer root in ``work``, unmount the peers'
    stores, remove the work tree and the cgroups the peers left."""
    stop(dockerd)
    networks = work / "composer-root" / "networks"
    if networks.is_dir():
        from composer.network.manager import NetworkManager

        NetworkManager(networks).reset()
    for store in STORES:
        subprocess.run(["umount", "-R", str(work / store)], capture_output=True)
    shutil.rmtree(work, ignore_errors=True)
    remove_new_cgroups(cgroups_before)


PIP_ENTRY_SCRIPT = """import re
import sys
from composer.cli.main import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


def baseline_command(work: Path, revision: str, argv: list[str]) -> tuple[str, list[str]]:
    """``argv`` (composer's) run by the composer of git ``revision``: its package extracted and compiled
    in ``work``, started by that revision's entry script (pip's generated one before bin/composer)."""
    tree = work / f"baseline-{revision}"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(VENV_BIN.parents[1]), "archive", revision, "composer"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "composer")], check=True,
                   stdout=subprocess.DEVNULL)
    shown = subprocess.run(["git", "-C", str(VENV_BIN.parents[1]), "show", f"{revision}:bin/composer"],
                           capture_output=True, text=True)
    script = shown.stdout if shown.returncode == 0 else PIP_ENTRY_SCRIPT  # older revisions: pip's entry point
    script = script.replace("import sys\n", f"import sys\nsys.path.insert(0, {str(tree)!r})\n", 1)
    launcher = tree / "composer-entry"
    launcher.write_text(script)
    return f"composer@{revision}", [sys.executable, str(launcher), *argv[1:]]


def main() -> int:
    options, notes, work, cgroups_before = begin(
        __doc__.splitlines()[0], "bench-run-", 30, lambda parser: parser.add_argument(
            "--baseline", metavar="REV", help="also time the composer of this git revision (before/after)"))
    dockerd = None
    try:
        rootfs = build_busybox_rootfs(work / "rootfs")
        tarball = busybox_tarball(rootfs, work / "busybox.tar")
        argv, env, dockerd = commands(work, rootfs, tarball, notes)
        if options.baseline:
            name, command = baseline_command(work, options.baseline, argv["composer"])
            argv = {"composer": argv["composer"], name: command, **argv}
        outcomes = measure([Case("run --rm --network none busybox true", argv, env=env)], rounds=options.rounds)
        report("run", outcomes, options.rounds, notes)
    finally:
        teardown(work, dockerd, cgroups_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
