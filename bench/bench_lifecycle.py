"""Containers that live on: composer's supervisors against podman (conmon) and docker (containerd shim).

Cases (medians over RUNS, the tools alternating within each run):
  pss_supervisor_kib   PSS of one supervisor (composer) / conmon / containerd-shim, 10 idle containers
  pss_total_kib        PSS of every process the tool keeps running, divided by 10 containers
                       (composer: supervisors + zygote; podman: conmons; docker: shims, not dockerd)
  run_d_s              `run -d busybox sleep 1000` latency, the first container (composer: its zygote starts)
  run_d_warm_s         the same for the second container (composer: the zygote runs already)
  exec_s               `exec C true` latency
  stop_s               `stop` of a container that exits on SIGTERM
  logs_run_s           a container writing 100 MB to stdout: run to exit
  logs_read_s          then `logs` into /dev/null
  (the "no-container" column: the same writer run by the image's busybox on the host, into a pipe)
Usage: python bench/bench_lifecycle.py [RUNS]   (writes bench/results/lifecycle.json)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ENTRY = Path(sys.executable).with_name("composer")  # the installed entry point, as users run it
COMPOSER = [str(ENTRY)] if ENTRY.exists() else [sys.executable, "-m", "composer"]
IDLE = 10
NO_NET = ("--network", "none")  # the same for every tool: conmon and the shim do no networking
STOPPABLE = "trap 'exit 0' TERM; while true; do sleep 0.05; done"
WRITER = "yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789 | head -c 100000000"


def sh(*args: str, env: dict | None = None, check: bool = True, stdout=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, check=False, stdout=stdout, stderr=subprocess.PIPE, text=True)
    if check and result.returncode:
        raise SystemExit(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    return result


def timed(*args: str, env: dict | None = None) -> float:
    began = time.perf_counter()
    sh(*args, env=env)
    return time.perf_counter() - began


def pss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))


def pids_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if name.encode() in handle.read().split(b"\0")[0]:
                        found.append(int(entry))
            except OSError:
                pass
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Tool:
    """One container tool: its CLI prefix, environment and how to find its per-container processes."""

    def __init__(self, name: str, cli: list[str], env: dict) -> None:
        self.name, self.cli, self.env = name, cli, env

    def run(self, *args: str) -> float:
        """Time ``TOOL container ARGS`` (all three tools have docker's ``container`` group)."""
        return timed(*self.cli, "container", *args, env=self.env)

    def keepers(self, names: list[str]) -> tuple[list[int], list[int]]:
        """(per-container processes, all processes the tool keeps for them)."""
        if self.name == "composer":
            root = Path(self.env["COMPOSER_ROOT"]) / "containers"
            sups = [json.loads((d / "state.json").read_text()).get("SupervisorPid", 0) for d in root.iterdir()]
            sups = [p for p in sups if p]
            parents = {int(open(f"/proc/{p}/stat").read().rpartition(")")[2].split()[1]) for p in sups}
            return sups, sups + sorted(parents)
        ids = sh(*self.cli, "container", "inspect", "-f", "{{.Id}}", *names, env=self.env,
                 stdout=subprocess.PIPE).stdout.split()
        procs = [p for p in pids_named("conmon" if self.name == "podman" else "containerd-shim")
                 if any(i in _cmdline(p) for i in ids)]  # only ours: other tools' may run meanwhile
        return procs, procs


def setup_composer(tar: Path, work: Path) -> Tool:
    from tests.fixtures.images import BUSYBOX_CHANGES

    env = dict(os.environ, COMPOSER_ROOT=str(work / "composer-root"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users have .pyc files: no compiling on every command
    sh(sys.executable, "-m", "compileall", "-q", str(REPO / "composer"), env=env)
    os.environ["COMPOSER_ROOT"] = env["COMPOSER_ROOT"]
    from composer.engine.images.store import ImageStore

    ImageStore().import_rootfs(tar, "busybox:latest", BUSYBOX_CHANGES)
    return Tool("composer", COMPOSER, env)


def setup_podman(tar: Path, work: Path) -> Tool | None:
    if not shutil.which("podman"):
        return None
    conf = work / "containers.conf"
    conf.write_text('[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
                    '[engine]\nruntime = "runc"\n')
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    if sh("podman", "import", "--change", 'CMD ["sh"]', str(tar), "bench-busybox", env=env, check=False).returncode:
        return None
    return Tool("podman", ["podman"], env)


def setup_docker(tar: Path, work: Path) -> tuple[Tool | None, subprocess.Popen | None]:
    if not shutil.which("dockerd"):
        return None, None
    log = open(work / "dockerd.log", "w")
    # its own socket, data root and no bridge: other benchmarks may run their dockerd meanwhile
    sock = f"unix://{work / 'docker.sock'}"
    env = dict(os.environ, DOCKER_HOST=sock)
    daemon = subprocess.Popen(["dockerd", "-H", sock, "--data-root", str(work / "docker"), "--exec-root",
                               str(work / "docker-run"), "--pidfile", str(work / "docker.pid"), "--bridge=none",
                               "--iptables=false", "--ip6tables=false"], stdout=log, stderr=log)
    for _ in range(150):
        if sh("docker", "info", env=env, check=False).returncode == 0:
            break
        time.sleep(0.2)
    else:
        daemon.terminate()
        return None, None
    if sh("docker", "import", "--change", 'CMD ["sh"]', str(tar), "bench-busybox", env=env, check=False).returncode:
        daemon.terminate()
        daemon.wait(timeout=60)
        return None, None
    return Tool("docker", ["docker"], env), daemon


def image_of(tool: Tool) -> str:
    return "busybox" if tool.name == "composer" else "bench-busybox"


def one_run(tool: Tool, results: dict) -> None:
    image = image_of(tool)
    rec = results.setdefault(tool.name, {})
    names = [f"bench-idle-{i}" for i in range(IDLE)]
    rec.setdefault("run_d_s", []).append(tool.run("run", "-d", *NO_NET, "--name", names[0], image, "sleep", "1000"))
    rec.setdefault("run_d_warm_s", []).append(tool.run("run", "-d", *NO_NET, "--name", names[1], image, "sleep", "1000"))
    for name in names[2:]:
        tool.run("run", "-d", *NO_NET, "--name", name, image, "sleep", "1000")
    time.sleep(1.0)
    per, everything = tool.keepers(names)
    rec.setdefault("pss_supervisor_kib", []).append(statistics.median(pss_kib(p) for p in per))
    rec.setdefault("pss_total_kib", []).append(sum(pss_kib(p) for p in everything) / IDLE)
    rec.setdefault("exec_s", []).append(tool.run("exec", names[0], "true"))
    tool.run("rm", "-f", *names)
    tool.run("run", "-d", *NO_NET, "--name", "bench-stop", image, "sh", "-c", STOPPABLE)
    rec.setdefault("stop_s", []).append(tool.run("stop", "bench-stop"))
    tool.run("rm", "-f", "bench-stop")
    began = time.perf_counter()
    tool.run("run", "-d", *NO_NET, "--name", "bench-logs", image, "sh", "-c", WRITER)
    tool.run("wait", "bench-logs")
    rec.setdefault("logs_run_s", []).append(time.perf_counter() - began)
    rec.setdefault("logs_read_s", []).append(tool.run("logs", "bench-logs"))
    tool.run("rm", "-f", "bench-logs")


def host_pipeline(rootfs: Path, results: dict) -> None:
    """The writer of ``logs_run_s`` without a container: busybox on the host, into a pipe."""
    busybox = str(rootfs / "bin" / "busybox")
    began = time.perf_counter()
    subprocess.run([busybox, "sh", "-c", f"PATH={rootfs / 'bin'}:{rootfs / 'usr' / 'bin'}; {WRITER} | cat >/dev/null"], check=True)
    results.setdefault("no-container", {}).setdefault("logs_run_s", []).append(time.perf_counter() - began)


def report(results: dict) -> dict:
    cases = ["pss_supervisor_kib", "pss_total_kib", "run_d_s", "run_d_warm_s", "exec_s", "stop_s", "logs_run_s", "logs_read_s"]
    peers = [name for name in results if name != "composer"]
    table = {}
    print(f"{'case':<20}{'composer':>12}" + "".join(f"{p:>14}{'ratio':>8}" for p in peers))
    for case in cases:
        ours = statistics.median(results["composer"][case])
        row = {"composer": ours}
        line = f"{case:<20}{ours:>12.3f}"
        for peer in peers:
            if case not in results[peer]:
                line += f"{'-':>14}{'-':>8}"
                continue
            theirs = statistics.median(results[peer][case])
            row[peer], row[f"composer/{peer}"] = theirs, ours / theirs if theirs else None
            line += f"{theirs:>14.3f}{ours / theirs if theirs else float('nan'):>8.2f}"
        table[case] = row
        print(line)
    return table


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    work = Path(tempfile.mkdtemp(prefix="bench-lifecycle-"))
    daemon = docker = None
    try:
        from tests.fixtures.rootfs import build_busybox_rootfs, busybox_tarball

        rootfs = build_busybox_rootfs(work / "rootfs")
        tar = busybox_tarball(rootfs, work / "busybox.tar")
        tools = [setup_composer(tar, work)]
        podman = setup_podman(tar, work)
        docker, daemon = setup_docker(tar, work)
        tools += [t for t in (podman, docker) if t is not None]
        if podman is None:
            print("podman: not available here (skipped)")
        if docker is None:
            print("docker: dockerd did not start here (skipped)")
        results: dict = {}
        for tool in tools:  # leftovers of an interrupted earlier run
            sh(*tool.cli, "container", "rm", "-f", "bench-stop", "bench-logs",
               *(f"bench-idle-{i}" for i in range(IDLE)), env=tool.env, check=False)
        load = [os.getloadavg()[0]]
        for _ in range(runs):
            for tool in tools:
                one_run(tool, results)
            host_pipeline(rootfs, results)
            load.append(os.getloadavg()[0])
        table = report(results)
        print(f"load average (1 min) during the runs: {min(load):.2f} - {max(load):.2f}")
        out = REPO / "bench" / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / "lifecycle.json").write_text(json.dumps({"runs": runs, "idle_containers": IDLE, "cases": table,
                                                        "load_average": load, "samples": results}, indent=2))
    finally:
        if daemon is not None:
            sh("docker", "rm", "-f", "bench-idle-0", env=docker.env, check=False)
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
