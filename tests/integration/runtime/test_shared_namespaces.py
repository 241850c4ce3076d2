"""``--pid/--ipc/--network container:NAME``: joining a running container's namespaces (setns)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.root


@pytest.fixture
def target(image, state_root):
    """A detached busybox ``sleep`` named ``target`` (removed afterwards); yields its PID 1."""
    env = dict(os.environ, COMPOSER_ROOT=str(state_root))

    def composer(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "composer", "container", *args], capture_output=True,
                              text=True, timeout=60, env=env)

    started = composer("run", "-d", "--name", "target", "--network", "none", "--hostname", "tgt", "--ipc", "shareable",
                       "busybox", "sh", "-c", "echo covfefe > /dev/shm/bar && exec sleep 60")
    assert started.returncode == 0, started.stderr
    try:
        import json

        yield json.loads(composer("inspect", "target").stdout)[0]["State"]["Pid"]
    finally:
        composer("rm", "-f", "target")


def _ns(pid: int | str, name: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{name}")


def test_join_pid_ipc_and_network_of_a_running_container(run, target):
    result = run("--rm", "--pid", "container:target", "--ipc", "container:target", "--network", "container:target",
                 "busybox", "sh", "-c", "for n in pid ipc net mnt; do readlink /proc/self/ns/$n; done;"
                                        " cat /dev/shm/bar; ps -o comm; hostname")
    assert result.returncode == 0, result.stderr
    pid_ns, ipc_ns, net_ns, mnt_ns, shared, *rest = result.stdout.split()
    assert (pid_ns, ipc_ns, net_ns) == (_ns(target, "pid"), _ns(target, "ipc"), _ns(target, "net"))
    assert mnt_ns != _ns(target, "mnt")  # the filesystem stays its own
    assert shared == "covfefe"  # POSIX shared memory (/dev/shm) goes with the IPC namespace, as docker's
    assert "sleep" in rest  # the target's processes are visible
    assert rest[-1] == "tgt"  # docker: a shared network namespace brings the hostname


def test_joining_a_missing_or_stopped_container_fails_cleanly(run, state_root):
    missing = run("--rm", "--network", "container:nope", "busybox", "true")
    assert missing.returncode != 0 and "No such container: nope" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert run("--name", "stopped", "--network", "none", "busybox", "true").returncode == 0
    stopped = run("--rm", "--pid", "container:stopped", "busybox", "true")
    assert stopped.returncode != 0 and "is not running" in stopped.stderr
    assert len(list((state_root / "containers").iterdir())) == 1
    published = run("--rm", "-p", "80", "--network", "container:stopped", "busybox", "true")
    assert published.returncode != 0 and "publishing ports" in published.stderr


def test_runtime_resolves_container_names_as_compose_gives_them(image, target):
    from composer.engine.runtime.config import ContainerConfig
    from composer.engine.runtime.linux import ForegroundRun

    check = f'test "$(readlink /proc/self/ns/net)" = "{_ns(target, "net")}" && test "$(hostname)" = tgt'
    config = ContainerConfig(id=os.urandom(32).hex(), name="joiner", image=image.name, image_id=image.id,
                             layers=[str(p) for p in image.layer_dirs], args=["sh", "-c", check], env=[],
                             network="container:target", auto_remove=True)
    run = ForegroundRun(config)
    try:
        run.start(run.prepare())
        assert run.wait().exit_code == 0
    finally:
        run.cleanup()


def test_joining_a_private_ipc_namespace_is_refused(run, state_root):
    """docker: only a ``shareable`` donor gives its IPC namespace away ("non-shareable IPC")."""
    env = dict(os.environ, COMPOSER_ROOT=str(state_root))
    started = subprocess.run([sys.executable, "-m", "composer", "container", "run", "-d", "--name", "private",
                              "--network", "none", "busybox", "sleep", "60"], capture_output=True, text=True,
                             timeout=60, env=env)
    assert started.returncode == 0, started.stderr
    try:
        refused = run("--rm", "--ipc", "container:private", "busybox", "true")
        assert refused.returncode == 125, refused.stderr
        assert "non-shareable IPC" in refused.stderr and "IpcMode:shareable" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert len(list((state_root / "containers").iterdir())) == 1  # nothing half-created
        allowed = run("--rm", "--pid", "container:private", "busybox", "true")  # pid has no such rule
        assert allowed.returncode == 0, allowed.stderr
    finally:
        subprocess.run([sys.executable, "-m", "composer", "container", "rm", "-f", "private"], capture_output=True,
                       timeout=60, env=env)


def test_ipc_host_shares_the_hosts_dev_shm(run, state_root):
    """docker: ``--ipc host`` binds the host's /dev/shm (its POSIX shm segments), and a container that
    joins such a donor (``--ipc container:X``) sees the same segments, not a private /dev/shm."""
    segment, written = f"/dev/shm/composer-test-{os.getpid()}", f"/dev/shm/composer-test-{os.getpid()}-back"
    env = dict(os.environ, COMPOSER_ROOT=str(state_root))
    with open(segment, "w") as handle:
        handle.write("from-host")
    try:
        result = run("--rm", "--network", "none", "--ipc", "host", "busybox", "sh", "-c",
                     f"cat {segment}; echo from-container > {written}")
        assert result.stdout == "from-host", result.stderr
        with open(written) as handle:
            assert handle.read() == "from-container\n"
        donor = subprocess.run([sys.executable, "-m", "composer", "container", "run", "-d", "--name", "hostipc",
                                "--network", "none", "--ipc", "host", "busybox", "sleep", "60"],
                               capture_output=True, text=True, timeout=60, env=env)
        assert donor.returncode == 0, donor.stderr
        joined = run("--rm", "--network", "none", "--ipc", "container:hostipc", "busybox", "cat", segment)
        assert joined.returncode == 0 and joined.stdout == "from-host", joined.stderr
    finally:
        subprocess.run([sys.executable, "-m", "composer", "container", "rm", "-f", "hostipc"], capture_output=True,
                       timeout=60, env=env)
        for path in (segment, written):
            if os.path.exists(path):
                os.unlink(path)


def test_ipc_none_is_private_without_dev_shm(run):
    """docker's ``--ipc none``: an IPC namespace of its own, and no /dev/shm mounted."""
    result = run("--rm", "--network", "none", "--ipc", "none", "busybox", "sh", "-c",
                 "readlink /proc/self/ns/ipc; grep -c ' /dev/shm ' /proc/mounts")
    ipc_ns, mounted = result.stdout.split()
    assert ipc_ns != os.readlink("/proc/self/ns/ipc") and mounted == "0", result.stdout + result.stderr
