"""Dockerfile builds: `composer image build` against `podman build` (buildah) and `docker build`.

Set-up (done here): the busybox test rootfs imported as ``busybox:latest`` into a private composer
root, a private podman storage (overlay, runc, nofile within this machine's hard limit) and a
private dockerd this script starts (bench_run's ``start_dockerd``: own socket, data root, no
bridge, no iptables) and stops by its PID; ``docker build`` is the classic builder
(``DOCKER_BUILDKIT=0``: the docker CLI here has no buildx plugin). The same context for all: a
two-stage Dockerfile with two COPY and two RUN steps and ~200 small source files.
Cases, alternating tools each round, medians:
- ``cold multi-stage``: ``--no-cache`` every run.
- ``no-change rebuild``: the same build again (every step cached).
- ``edit one file``: one source file (copied in a late step) changed before every run.
- ``3 RUN with a secret``: ``--no-cache``, three RUN steps each mounting a ``--secret`` file
  (composer and podman; docker's classic builder has no secrets).

RUN steps use no network in every tool (``--network none``). Run:
/work/main/.venv/bin/python bench/bench_build.py [--rounds N]   (as root)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_run import start_dockerd, stop  # noqa: E402
from harness import VENV_BIN, Case, measure, report  # noqa: E402

from tests.fixtures.images import BUSYBOX_CHANGES  # noqa: E402
from tests.fixtures.rootfs import build_busybox_rootfs, busybox_tarball  # noqa: E402

PODMAN_CONF = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
"""
DOCKERFILE = """\
FROM busybox AS build
COPY deps.txt /src/
RUN cp /src/deps.txt /src/deps.lock && mkdir -p /out
COPY src/ /src/app/
RUN cat /src/app/*.txt | wc -c > /out/size && cp -r /src/app /out/app
FROM busybox
COPY --from=build /out /app
CMD ["cat", "/app/size"]
"""
SECRET_DOCKERFILE = """\
FROM busybox
RUN --mount=type=secret,id=token test -s /run/secrets/token
RUN --mount=type=secret,id=token,target=/etc/token.txt cat /etc/token.txt > /dev/null
RUN --mount=type=secret,id=token wc -c /run/secrets/token > /size
"""


def make_context(root: Path) -> Path:
    """The build context: a Dockerfile, a deps file and 200 source files."""
    context = root / "context"
    (context / "src").mkdir(parents=True)
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "deps.txt").write_text("dependency list\n" * 100)
    for index in range(200):
        (context / "src" / f"mod{index:03d}.txt").write_text(f"module {index}\n" * 200)
    return context


class Setup:
    """Private stores for each tool, and the commands of each case."""

    def __init__(self, work: Path) -> None:
        self.work = work
        tar = busybox_tarball(build_busybox_rootfs(work / "rootfs"), work / "busybox.tar")
        self.context = make_context(work)
        self.secret_context = work / "secret-context"
        self.secret_context.mkdir()
        (self.secret_context / "Dockerfile").write_text(SECRET_DOCKERFILE)
        (work / "token").write_text("s3cr3t\n")
        self.composer_env = {"COMPOSER_ROOT": str(work / "composer-root")}
        env = {**os.environ, **self.composer_env}
        changes = [arg for change in BUSYBOX_CHANGES for arg in ("--change", change)]
        subprocess.run([str(VENV_BIN / "composer"), "image", "import", *changes, str(tar), "busybox:latest"],
                       env=env, check=True, capture_output=True)
        self.podman = None
        if shutil.which("podman"):
            (work / "containers.conf").write_text(PODMAN_CONF)
            self.podman_env = {"CONTAINERS_CONF": str(work / "containers.conf")}
            self.podman = ["podman", "--root", f"{work}/podman/root", "--runroot", f"{work}/podman/runroot",
                           "--storage-driver", "overlay"]
            subprocess.run([*self.podman, "import", *changes, str(tar), "localhost/busybox:latest"],
                           env={**os.environ, **self.podman_env}, check=True, capture_output=True)
        self.notes: list[str] = []
        self.dockerd, host = start_dockerd(work, tar, self.notes) if shutil.which("docker") else (None, "")
        self.docker = ["docker", "-H", host] if self.dockerd is not None else None
        if self.docker and subprocess.run([*self.docker, "import", *changes, str(tar), "busybox:latest"],
                                          capture_output=True).returncode != 0:
            self.notes.append("docker: import of busybox failed")
            stop(self.dockerd)
            self.docker = None

    def commands(self, *extra: str, context: Path | None = None, docker: bool = True) -> dict[str, list[str]]:
        context = context or self.context
        out = {"composer": [str(VENV_BIN / "composer"), "image", "build", "-q", "--network", "none", "-t", "bench-build:1", *extra,
                            str(context)]}
        if self.podman:
            out["podman"] = [*self.podman, "build", "-q", "--network", "none", "-t", "bench-build:1", *extra,
                             str(context)]
        if self.docker and docker:
            out["docker"] = [*self.docker, "build", "-q", "--network", "none", "-t", "bench-build:1", *extra,
                             str(context)]
        return out

    def cases(self) -> list[Case]:
        env = {**self.composer_env, **getattr(self, "podman_env", {}), "DOCKER_BUILDKIT": "0"}
        counter = iter(range(10**6))

        def edit() -> None:
            (self.context / "src" / "mod199.txt").write_text(f"edited {next(counter)} {time.time()}\n")

        return [Case("cold multi-stage", self.commands("--no-cache"), env=env),
                Case("no-change rebuild", self.commands(), env=env),
                Case("edit one file", self.commands(), env=env, prepare=edit),
                Case("3 RUN with a secret", self.commands("--no-cache", "--secret", f"id=token,src={self.work}/token",
                                                          context=self.secret_context, docker=False), env=env)]

    def close(self) -> None:
        if self.podman:
            subprocess.run([*self.podman, "rmi", "-a", "-f"], capture_output=True,
                           env={**os.environ, **self.podman_env})
            subprocess.run(["umount", "-R", f"{self.work}/podman"], capture_output=True)
        if self.docker:
            subprocess.run([*self.docker, "rmi", "-f", "bench-build:1", "busybox:latest"], capture_output=True)
            stop(self.dockerd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_build.py needs root")
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    setup = None
    try:
        setup = Setup(work)
        outcomes = measure(setup.cases(), rounds=args.rounds, warmup=1)
        print(f"rounds: {args.rounds}; load average {os.getloadavg()[0]:.1f}")
        report("build", outcomes, args.rounds, setup.notes, dockerfile=DOCKERFILE)
    finally:
        if setup is not None:
            setup.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
