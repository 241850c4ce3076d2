"""Capabilities, seccomp, no-new-privileges, masked and read-only paths, sysctls, --privileged."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.root


def _status(run, *args: str) -> dict[str, str]:
    result = run("--rm", *args, "busybox", "cat", "/proc/self/status")
    assert result.returncode == 0, result.stderr
    return dict(line.split(":\t", 1) for line in result.stdout.splitlines() if ":\t" in line)


def test_capability_flags(run):
    assert _status(run, "--cap-drop", "ALL")["CapEff"] == "0000000000000000"
    added = int(_status(run, "--cap-add", "SYS_ADMIN", "--cap-drop", "CAP_CHOWN")["CapEff"], 16)
    assert added & (1 << 21) and not added & 1
    privileged = _status(run, "--privileged")
    assert privileged["Seccomp"] == "0" and int(privileged["CapEff"], 16) >= 0x1ffffffff >> 1


def test_seccomp_and_no_new_privileges(run, tmp_path):
    assert _status(run, "--security-opt", "no-new-privileges")["NoNewPrivs"] == "1"
    assert _status(run, "--security-opt", "seccomp=unconfined")["Seccomp"] == "0"
    blocked = run("--rm", "busybox", "unshare", "-n", "true")
    assert blocked.returncode != 0 and "Operation not permitted" in blocked.stderr
    profile = tmp_path / "profile.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": '
                       '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}')
    custom = run("--rm", "--security-opt", f"seccomp={profile}", "busybox", "mkdir", "/x")
    assert custom.returncode != 0 and "Operation not permitted" in custom.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    result = run("--rm", "--security-opt", f"seccomp={broken}", "busybox", "true")
    assert result.returncode == 125 and "broken.json" in result.stderr


def test_masked_and_readonly_paths(run):
    masked = [p for p in ("/proc/keys", "/proc/timer_list", "/proc/kcore") if os.path.exists(p)]
    result = run("--rm", "busybox", "sh", "-c",
                 f"cat {' '.join(masked)} | wc -c; ls /sys/firmware | wc -l;"
                 " echo 1 > /proc/sys/kernel/domainname; echo rc=$?")
    lines = result.stdout.split()
    assert lines[:2] == ["0", "0"], result.stdout + result.stderr
    assert "rc=1" in lines and "Read-only file system" in result.stderr


def test_read_only_root_and_tmpfs(run):
    result = run("--rm", "--read-only", "--tmpfs", "/scratch", "busybox", "sh", "-c",
                 "touch /x; echo rc=$?; touch /scratch/y && echo ok; touch /dev/shm/z && echo shm")
    assert "rc=1" in result.stdout and "ok" in result.stdout and "shm" in result.stdout


def test_sysctls(run):
    with open("/proc/sys/net/ipv4/ip_forward") as handle:
        host_value = handle.read().strip()
    wanted = "0" if host_value == "1" else "1"
    result = run("--rm", "--sysctl", f"net.ipv4.ip_forward={wanted}", "--sysctl", "kernel.shmmax=1048576",
                 "busybox", "sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax")
    assert result.stdout.split() == [wanted, "1048576"], result.stderr
    refused = run("--rm", "--sysctl", "kernel.panic=1", "busybox", "true")
    assert refused.returncode != 0 and "kernel.panic" in refused.stderr
    with open("/proc/sys/net/ipv4/ip_forward") as handle:
        assert handle.read().strip() == host_value  # the host's value is untouched


def test_devices(run):
    result = run("--rm", "busybox", "sh", "-c", "ls /dev; echo x > /dev/null && head -c 4 /dev/zero | wc -c")
    names = set(result.stdout.split())
    assert {"null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue", "4"} <= names
    assert "sda" not in names and "vda" not in names


def test_host_block_devices_cannot_be_opened(run):
    """CAP_MKNOD is in the default set, but the devices cgroup refuses to open what it makes."""
    root_device = os.stat("/").st_dev
    major, minor = os.major(root_device), os.minor(root_device)
    result = run("--rm", "busybox", "sh", "-c",
                 f"mknod /disk b {major} {minor} && head -c 1 /disk > /dev/null; echo rc=$?")
    assert "rc=1" in result.stdout and "Operation not permitted" in result.stderr, result.stdout + result.stderr
    zero = run("--rm", "busybox", "sh", "-c", "mknod /z c 1 5 && head -c 3 /z | wc -c")
    assert zero.stdout.strip() == "3"


def test_runtime_binary_not_reachable(run):
    """Even sharing the host's PID namespace, the runtime's executable cannot be opened (CVE-2019-5736)."""
    result = run("--rm", "--pid", "host", "busybox", "sh", "-c",
                 "readlink /proc/$PPID/exe; echo r=$?; echo x >> /proc/$PPID/exe; echo w=$?; readlink /proc/$PPID/fd/1; echo f=$?")
    assert "r=1" in result.stdout and "w=1" in result.stdout and "f=1" in result.stdout, result.stdout
