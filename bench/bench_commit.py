"""`container commit` and `container export` of a stopped busybox container holding a 1 MiB file
it added: composer against docker (a private dockerd, overlay2), the tools alternating each round.

Set-up (undone at the end): busybox imported into a temporary COMPOSER_ROOT and into a dockerd on a
private socket and data root (``--bridge=none --iptables=false``, stopped by PID); one created
container per tool, the file copied in with ``cp``. Every commit makes a new untagged image.

Run: /work/main/.venv/bin/python bench/bench_commit.py [--rounds N]   (as root)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_run import begin, setup_composer, start_dockerd, teardown  # noqa: E402
from harness import VENV_BIN, Case, measure, report  # noqa: E402

from tests.fixtures.rootfs import build_busybox_rootfs, busybox_tarball  # noqa: E402


def prepare(work: Path, tools: dict[str, list[str]], env: dict[str, str]) -> None:
    """A stopped container ``bc`` per tool with ``/payload`` (1 MiB) in its writable layer."""
    payload = work / "payload"
    payload.write_bytes(os.urandom(1 << 20))
    image = {"composer": "busybox", "docker": "busybox:bench"}
    for tool, prefix in tools.items():
        run_env = {**os.environ, **env}
        subprocess.run([*prefix, "create", "--name", "bc", "--network", "none", image[tool], "true"],
                       check=True, capture_output=True, env=run_env)
        subprocess.run([*prefix, "cp", str(payload), "bc:/payload"], check=True, capture_output=True, env=run_env)


def main() -> int:
    options, notes, work, cgroups_before = begin(__doc__.splitlines()[0], "bench-commit-", 10)
    dockerd = None
    try:
        tarball = busybox_tarball(build_busybox_rootfs(work / "rootfs"), work / "busybox.tar")
        env = setup_composer(work, tarball)
        tools = {"composer": [str(VENV_BIN / "composer"), "container"]}
        dockerd, host = start_dockerd(work, tarball, notes)
        if dockerd is not None:
            tools["docker"] = ["docker", "-H", host, "container"]
        prepare(work, tools, env)
        cases = [Case("commit (stopped, 1 MiB added)", {t: [*p, "commit", "bc"] for t, p in tools.items()}, env=env),
                 Case("export -o FILE (stopped)", {t: [*p, "export", "-o", str(work / f"{t}.tar"), "bc"]
                                                   for t, p in tools.items()}, env=env)]
        report("commit", measure(cases, rounds=options.rounds), options.rounds, notes)
    finally:
        teardown(work, dockerd, cgroups_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
