"""Capabilities, seccomp, no-new-privileges, masked and read-only paths, sysctls, --privileged."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.integration.runtime.conftest import cli

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


def test_sys_is_read_only(run):
    result = run("--rm", "--network", "none", "busybox", "sh", "-c",
                 "grep ' /sys ' /proc/mounts; echo 1 > /sys/kernel/uevent_helper; echo rc=$?")
    assert " ro," in result.stdout and "rc=1" in result.stdout, result.stdout + result.stderr


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


def test_runtime_binary_cannot_be_the_entrypoint(run, state_root):
    """An image whose entrypoint leads to /proc/self/exe would run the host's interpreter inside the
    container, where its root could keep the binary open for writing (CVE-2019-5736): refused."""
    for flags, command in (((), ("/proc/self/exe",)), (("--entrypoint", "/proc/1/exe"), ())):
        result = run("--rm", "--network", "none", *flags, "busybox", *command)
        assert result.returncode == 126, result.stdout + result.stderr
        assert "runtime's own executable" in result.stderr and "Traceback" not in result.stderr
    linked = run("--rm", "--network", "none", "-v", "trap:/trap", "busybox", "ln", "-s", "/proc/self/exe", "/trap/sh")
    assert linked.returncode == 0, linked.stderr
    through_link = run("--rm", "--network", "none", "-v", "trap:/trap", "busybox", "/trap/sh", "-c", "print(1)")
    assert through_link.returncode == 126 and "runtime's own executable" in through_link.stderr


def _run_with_fd(state_root, fd: int, *args: str) -> subprocess.CompletedProcess[str]:
    """``container run ARGS`` with the host directory ``fd`` inherited (as a leaky caller would)."""
    return subprocess.run([sys.executable, "-m", "composer", "container", "run", *args], capture_output=True,
                          text=True, timeout=60, pass_fds=(fd,), env=dict(os.environ, COMPOSER_ROOT=str(state_root)))


def test_no_host_fd_reaches_the_container(run, state_root, tmp_path):
    """runc's CVE-2024-21626: a host directory fd left open let ``-w /proc/self/fd/N`` start the
    process in the host's filesystem. Inherited fds are closed before any container path is used."""
    host_dir = tmp_path / "host-secret"
    host_dir.mkdir()
    (host_dir / "secret").write_text("host data")
    fd = os.open(host_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        listed = _run_with_fd(state_root, fd, "--rm", "--network", "none", "busybox", "ls", "/proc/self/fd")
        assert listed.returncode == 0 and listed.stdout.split() == ["0", "1", "2", "3"], listed.stdout  # 3: ls's own
        for workdir in (f"/proc/self/fd/{fd}", f"/proc/1/fd/{fd}", f"/proc/self/fd/{fd}/sub"):
            escaped = _run_with_fd(state_root, fd, "--rm", "--network", "none", "-w", workdir, "busybox", "sh", "-c",
                                   "cat secret; touch planted; pwd")
            assert "host data" not in escaped.stdout, (workdir, escaped.stdout)
            assert "Traceback" not in escaped.stderr
    finally:
        os.close(fd)
    assert sorted(os.listdir(host_dir)) == ["secret"]  # nothing planted, no directory made


def test_magic_link_workdir_stays_inside(run, tmp_path):
    """``--pid host -w /proc/PID/cwd`` (or ``/root/...``) of a host process: the link is read as a
    path inside the container, never followed to the host's directory."""
    host_dir = tmp_path / "host-cwd"
    host_dir.mkdir()
    (host_dir / "marker").write_text("host")
    sleeper = subprocess.Popen(["sleep", "60"], cwd=host_dir)
    try:
        for workdir, inside in ((f"/proc/{sleeper.pid}/cwd", str(host_dir)), (f"/proc/{sleeper.pid}/root/tmp", "/tmp")):
            result = run("--rm", "--network", "none", "--pid", "host", "-w", workdir, "busybox", "sh", "-c",
                         "pwd; ls; touch planted")
            assert result.returncode == 0, result.stderr
            assert result.stdout.splitlines()[0] == inside and "marker" not in result.stdout, result.stdout
    finally:
        sleeper.kill()
        sleeper.wait()
    assert sorted(os.listdir(host_dir)) == ["marker"]
    assert not os.path.exists("/tmp/planted")


def test_process_is_not_dumpable_from_the_capability_drop_to_exec(tmp_path):
    """With the container's capabilities, only non-dumpability keeps the container's other processes
    from opening our /proc/PID/exe (the host's interpreter) before exec: checked in a forked child."""
    from types import SimpleNamespace

    from composer.engine.runtime import capabilities, init, libc

    if os.geteuid() != 0:
        pytest.skip("needs root")
    mask = capabilities.effective_mask([], [])
    plan = SimpleNamespace(cap_mask=mask, seccomp_bpf=None,
                           config=SimpleNamespace(cwd=str(tmp_path), security=SimpleNamespace(no_new_privileges=False)))
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            init._drop_privileges(plan, (0, 0, [0]))
            os.write(write_end, f"{libc.prctl(3)} {os.getcwd()}".encode())  # PR_GET_DUMPABLE
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        answer = os.read(read_end, 4096).decode()
    finally:
        os.close(read_end)
        os.waitpid(child, 0)
    assert answer == f"0 {tmp_path}"


def _digest(path: str) -> tuple[str, float]:
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest(), os.stat(path).st_mtime


@pytest.fixture
def self_exe_programs(tmp_path):
    """A directory (mounted at /f) with a ``#!/proc/self/exe`` script and an ELF whose interpreter
    is /proc/self/exe (the host's /bin/true, patched), both trying to write through it."""
    from composer.engine.runtime import trampoline
    from tests.unit.runtime.test_trampoline import with_interpreter

    if os.uname().machine not in trampoline.CODE:
        pytest.skip("no exec trampoline on this machine")
    files = tmp_path / "files"
    files.mkdir()
    (files / "script").write_text("#!/proc/self/exe\nopen('/proc/self/exe', 'ab').write(b'pwned')\n")
    (files / "script").chmod(0o755)
    names = ["script"]
    if trampoline._interpreter("/bin/true"):
        with_interpreter("/bin/true", b"/proc/self/exe", str(files / "elf"))
        names.append("elf")
    return files, names


def test_proc_self_exe_interpreters_run_the_trampoline_not_the_hosts_python(run, state_root, self_exe_programs):
    """CVE-2019-5736 through the kernel: the entrypoint's interpreter (a #! line or PT_INTERP) is
    /proc/self/exe at the final execve, which is the sealed trampoline, never the host's binary."""
    files, names = self_exe_programs
    python = os.path.realpath(sys.executable)
    before = _digest(python)
    for name in names:
        result = run("--rm", "--network", "none", "-v", f"{files}:/f", "--entrypoint", f"/f/{name}", "busybox")
        assert result.returncode == 126, (name, result.stdout, result.stderr)
        assert "exec trampoline, not a program (CVE-2019-5736)" in result.stderr, result.stderr
    container = cli(state_root, "container", "run", "-d", "--network", "none", "-v", f"{files}:/f",
                          "busybox", "sleep", "60")
    assert container.returncode == 0, container.stderr
    try:
        cid = container.stdout.strip()
        for name in names:
            result = cli(state_root, "container", "exec", cid, f"/f/{name}")
            assert result.returncode == 126 and "exec trampoline" in result.stderr, (name, result.stderr)
    finally:
        cli(state_root, "container", "rm", "-f", container.stdout.strip())
    assert _digest(python) == before


def test_exec_failures_keep_dockers_messages_and_codes(run, state_root, tmp_path):
    """A program the kernel refuses (after PATH lookup) is reported through the trampoline as
    docker's runtime words it; lookup failures stay 126/127."""
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x01\x02 not a program")
    garbage.chmod(0o755)
    failed = run("--rm", "--network", "none", "-v", f"{tmp_path}:/f", "busybox", "/f/garbage")
    assert failed.returncode == 1 and failed.stderr.endswith("exec /f/garbage: exec format error\n"), failed.stderr
    container = cli(state_root, "container", "run", "-d", "--network", "none", "-v", f"{tmp_path}:/f",
                          "busybox", "sleep", "60")
    try:
        cid = container.stdout.strip()
        for argv, code, message, stream in ((["/f/garbage"], 1, "exec /f/garbage: exec format error", "stderr"),
                                            (["no-such"], 127, "executable file not found in $PATH", "stdout"),
                                            (["/etc"], 126, "permission denied", "stdout")):
            result = cli(state_root, "container", "exec", cid, *argv)  # a refused start: on stdout, as docker's
            shown = getattr(result, stream)
            assert result.returncode == code and message in shown, (argv, result.returncode, result.stdout, result.stderr)
        assert cli(state_root, "container", "exec", cid, "sh", "-c", "exit 3").returncode == 3
    finally:
        cli(state_root, "container", "rm", "-f", container.stdout.strip())


def test_workdir_through_a_symlink_is_made_inside_the_container(run, tmp_path):
    """-w through a symlink of the container (to an absolute path, or a magic link of /proc):
    the directories are made inside the container, never where the link points on the host."""
    outside = tmp_path / "outside"
    outside.mkdir()
    made = run("--rm", "--network", "none", "-v", "links:/links", "busybox", "sh", "-c",
               f"ln -s {outside} /links/abs && ln -s /proc/self/root{outside} /links/magic")
    assert made.returncode == 0, made.stderr
    for link in ("abs", "magic"):
        result = run("--rm", "--network", "none", "-v", "links:/links", "-w", f"/links/{link}/new/dir", "busybox",
                     "sh", "-c", "pwd; touch planted")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"{outside}/new/dir", result.stdout
    assert os.listdir(outside) == []


def test_a_seccomp_profile_refusing_execveat_still_runs_programs(run, tmp_path):
    """The trampoline is started with execveat; a profile that refuses it (docker's allows both)
    falls back to execve of the memfd through /proc/self/fd."""
    profile = tmp_path / "no-execveat.json"
    profile.write_text('{"defaultAction": "SCMP_ACT_ALLOW",'
                       ' "syscalls": [{"names": ["execveat"], "action": "SCMP_ACT_ERRNO"}]}')
    result = run("--rm", "--network", "none", "--security-opt", f"seccomp={profile}", "busybox", "echo", "ran")
    assert (result.returncode, result.stdout) == (0, "ran\n"), result.stderr
