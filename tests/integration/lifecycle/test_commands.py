"""The remaining container verbs on real containers: top, stats, rename, prune, ls filters,
logs --since/--until, and `system start` bringing restart-policy containers back after a
simulated reboot."""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from composer.network.store import NetworkStore
from tests.integration.lifecycle.conftest import CGROUP_GLOB

pytestmark = pytest.mark.root


def _state(cli, name: str) -> str:
    return cli("container", "inspect", "-f", "{{.State.Status}}", name, check=True).stdout.strip()


def test_top_and_stats_read_the_container(cli):
    cli("container", "run", "-d", "--name", "busy", "-m", "64m", "busybox", "sleep", "60", check=True)
    top = cli("container", "top", "busy", check=True).stdout.splitlines()
    assert top[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"] and "sleep 60" in top[1]
    stats = cli("container", "stats", "--no-stream", "busy", check=True).stdout.splitlines()
    assert stats[0].startswith("CONTAINER ID") and stats[1].split()[1] == "busy"
    assert "/ 64MiB" in stats[1]


def test_rename_prune_and_ls_filters(cli):
    keep = cli("container", "run", "-d", "--name", "one", "-l", "tier=web", "busybox", "sleep", "60",
               check=True).stdout.strip()
    cli("container", "run", "-d", "--name", "two", "busybox", "true", check=True)
    cli("container", "wait", "two", check=True)
    cli("container", "rename", "one", "uno", check=True)
    assert cli("container", "inspect", "-f", "{{.Name}}", keep[:12], check=True).stdout.strip() == "/uno"
    assert cli("container", "inspect", "one").returncode != 0
    named = cli("container", "ls", "-a", "--filter", "label=tier=web", "--format", "{{.Names}}").stdout
    assert named == "uno\n"
    exited = cli("container", "ls", "-a", "--filter", "status=exited", "--format", "{{.Names}}").stdout
    assert exited == "two\n"
    listed = json.loads(cli("container", "ls", "--format", "json", check=True).stdout.splitlines()[0])
    assert listed["Names"] == "uno"
    pruned = cli("container", "prune", "-f", check=True).stdout
    assert "Deleted Containers" in pruned
    assert cli("container", "ls", "-a", "--format", "{{.Names}}").stdout == "uno\n"


def test_logs_since_and_until(cli):
    cli("container", "run", "-d", "--name", "talk", "busybox", "sh", "-c", "echo early; sleep 2; echo late",
        check=True)
    cli("container", "wait", "talk", check=True)
    stamped = cli("container", "logs", "-t", "talk", check=True).stdout.splitlines()
    late_time = stamped[1].split()[0]
    assert cli("container", "logs", "--since", late_time, "talk").stdout == "late\n"
    assert cli("container", "logs", "--until", late_time[:19] + "Z", "talk").stdout == "early\n"
    assert cli("container", "logs", "--since", "1h", "talk").stdout == "early\nlate\n"
    bad = cli("container", "logs", "--since", "yesterday", "talk")
    assert bad.returncode != 0 and "\"since\"" in bad.stderr


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rpartition(")")[2].split()[1])


def _kill(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait_gone(pids, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while any(os.path.exists(f"/proc/{pid}") for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if os.path.exists(f"/proc/{pid}")]


def _simulate_reboot(state_root: Path, container_ids: list[str]) -> None:
    """What a reboot does to composer: every process gone (the supervisors' zygote and the
    supervisors by SIGKILL, the DNS server, whatever ran in the containers), their cgroups,
    mounts, bridges and nftables table gone; the files under the state root stay as they were."""
    from composer.network import firewall
    from composer.network.netlink import Netlink
    from composer.network.store import NetworkStore

    states = [json.loads((state_root / "containers" / cid / "state.json").read_text()) for cid in container_ids]
    supervisors = {s["SupervisorPid"] for s in states if s.get("SupervisorPid")}
    zygotes = {_parent(pid) for pid in supervisors}
    assert zygotes and not zygotes & {0, 1, os.getpid()}
    dns = (state_root / "networks" / "dns.pid")
    doomed = zygotes | supervisors | ({int(dns.read_text().split()[0])} if dns.exists() else set())
    _kill(doomed)
    for procs in [f for cid in container_ids for f in glob.glob(CGROUP_GLOB.format(cid) + "/cgroup.procs")]:
        with open(procs) as handle:
            inside = {int(pid) for pid in handle.read().split()}
        _kill(inside)
        doomed |= inside
    _wait_gone(doomed)
    for path in [p for cid in container_ids for p in glob.glob(CGROUP_GLOB.format(cid))]:
        os.rmdir(path)
    with open("/proc/self/mountinfo") as handle:
        mounted = [line.split()[4] for line in handle if line.split()[4].startswith(str(state_root))]
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", target], check=True)
    store = NetworkStore(state_root / "networks")
    with Netlink() as netlink:
        for name in os.listdir("/sys/class/net"):
            if name.startswith(store.bridge_prefix):
                netlink.delete_link(name)
    firewall.remove(store.table)


def test_system_start_after_a_reboot_brings_back_what_docker_would(cli, state_root):
    cli("network", "create", "appnet", check=True)
    ids = {}
    for name, policy, network in (("al", "always", "bridge"), ("al-stopped", "always", "bridge"),
                                  ("us", "unless-stopped", "appnet"), ("us-stopped", "unless-stopped", "bridge"),
                                  ("no", "no", "bridge"), ("of", "on-failure", "bridge")):
        ids[name] = cli("container", "run", "-d", "--name", name, "--restart", policy, "--network", network,
                        "busybox", "sleep", "60", check=True).stdout.strip()
    cli("container", "stop", "-t", "0", "al-stopped", "us-stopped", check=True)
    _simulate_reboot(state_root, list(ids.values()))
    assert not os.path.exists(f"/sys/class/net/{NetworkStore(state_root / 'networks').default_bridge}")

    died = json.loads(cli("container", "inspect", "no", check=True).stdout)[0]["State"]
    assert died["Status"] == "exited" and died["ExitCode"] == 137 and "supervisor died" in died["Error"]
    cli("container", "rm", "no", check=True)  # before any recovery: nothing of it is left
    removed = ids.pop("no")
    assert not (state_root / "containers" / removed).exists()

    started = cli("system", "start", check=True).stdout.split()
    # docker: `always` even when stopped by hand, `unless-stopped` unless stopped by hand, never
    # `no` nor `on-failure` (docker's daemon start does not restart those)
    assert sorted(started) == sorted([ids["al"], ids["al-stopped"], ids["us"]])
    states = {name: _state(cli, name) for name in ids}
    assert states == {"al": "running", "al-stopped": "running", "us": "running", "us-stopped": "exited",
                      "of": "exited"}
    for name, network in (("al", "bridge"), ("us", "appnet")):  # the bridges came back, with their gateway
        gateway = json.loads(cli("network", "inspect", network, check=True).stdout)[0]["IPAM"]["Config"][0]["Gateway"]
        assert cli("container", "exec", name, "ping", "-c", "1", "-W", "5", gateway).returncode == 0
    assert cli("system", "start", check=True).stdout == ""  # running ones are left alone
    endpoints = json.loads(cli("network", "inspect", "bridge", check=True).stdout)[0]["Containers"]
    assert sorted(endpoints) == sorted([ids["al"], ids["al-stopped"]])  # the removed one's address is free
    cli("container", "rm", "-f", *ids.values(), check=True)
    cli("network", "rm", "appnet", check=True)
