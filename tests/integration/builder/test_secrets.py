"""RUN --mount=type=secret and type=ssh on real builds: values reach the step, never a layer."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from composer.engine.build.secrets import Secret, SshAgent, parse_ssh
from composer.engine.images.store import ImageStore
from composer.errors import BuildError
from tests.integration.builder.conftest import layer_blob

pytestmark = [pytest.mark.root]


def top_layer_names(image_id: str) -> list[str]:
    import json

    diff_ids = json.loads(ImageStore().blobs.read(image_id))["rootfs"]["diff_ids"]
    with tarfile.open(layer_blob(diff_ids[-1])) as tar:
        return [member.name.rstrip("/") for member in tar]


def no_child_process(*_args, **_kwargs) -> int:
    raise AssertionError("a RUN step in the main thread started a separate process")


def test_secret_from_file_and_env_never_in_the_layer(builder, context: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from composer.engine.build import running

    monkeypatch.setattr(running, "_run_in_child", no_child_process)  # secrets need no extra process
    token = tmp_path / "token"
    token.write_text("s3cr3t-file")
    monkeypatch.setenv("API_KEY", "s3cr3t-env")
    dockerfile = """\
FROM busybox
RUN --mount=type=secret,id=token --mount=type=secret,id=api,env=API,required=true \\
    --mount=type=secret,id=api,target=/etc/api.key,mode=0440,uid=5 --mount=type=secret,id=absent \\
    test "$(cat /run/secrets/token)" = s3cr3t-file && test "$API" = s3cr3t-env \\
    && stat -c '%a %u' /run/secrets/token /etc/api.key > /modes && test ! -e /run/secrets/absent \\
    && ! touch /run/secrets/token 2>/dev/null
"""
    image_id, _ = builder(context, dockerfile, secrets=(Secret("token", file=str(token)),
                                                        Secret("api", env="API_KEY")))
    image = ImageStore().resolve(image_id)
    assert (image.layer_dirs[-1] / "modes").read_text() == "400 0\n440 5\n"
    assert top_layer_names(image_id) == ["modes"]  # no /run/secrets, no /etc/api.key stub
    for layer in image.layer_dirs:
        assert not (layer / "run/secrets").exists()
    config = ImageStore().resolve(image_id).config
    assert not any("s3cr3t" in entry for entry in config.get("Env") or [])


def test_secret_in_a_step_built_from_a_worker_thread(builder, context: Path, tmp_path: Path) -> None:
    """The compose engine builds from worker threads: the step runs in a child process, which
    gets the secret as the descriptor of its detached mount (never its value)."""
    import threading

    token = tmp_path / "token"
    token.write_text("thr3ad")
    dockerfile = ("FROM busybox\nRUN --mount=type=secret,id=token,uid=7,mode=0404 "
                  "cat /run/secrets/token > /seen && stat -c '%a %u' /run/secrets/token >> /seen\n")
    results: list = []
    worker = threading.Thread(target=lambda: results.append(
        builder(context, dockerfile, secrets=(Secret("token", file=str(token)),))))
    worker.start()
    worker.join(120)
    assert results, "the build in the worker thread failed"
    image_id, _ = results[0]
    assert (ImageStore().resolve(image_id).layer_dirs[-1] / "seen").read_text() == "thr3ad404 7\n"
    assert top_layer_names(image_id) == ["seen"]


def old_kernel_clone(real):
    """``libc.clone_tree`` as Linux < 6.15 behaves: open_tree(OPEN_TREE_CLONE) of a path in a mount
    of no namespace of ours (a detached tmpfs, reached through /proc/self/fd/N) fails with EINVAL
    (``__do_loopback``: ``!check_mnt(old)``); every other clone works as before."""
    import errno

    def clone_tree(path: str, flags: int = 0) -> int:
        if path.startswith("/proc/self/fd/"):
            raise OSError(errno.EINVAL, "Invalid argument", path)
        return real(path, flags)

    return clone_tree


@pytest.mark.parametrize("thread", [False, True], ids=["main-thread", "worker-thread"])
def test_secrets_on_a_kernel_before_6_15(builder, context: Path, tmp_path: Path, thread: bool,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Where cloning a file of a detached tmpfs fails (EINVAL, Linux < 6.15), each secret gets its own
    tmpfs that the container attaches on a staging directory, binds from, then detaches: the real
    fallback mounts on this kernel, with the right owner and mode and no trace of the staging
    (in the worker thread, the mounts reach the runtime's child process as JSON)."""
    import threading

    from composer.engine.build import running
    from composer.engine.runtime import libc

    if not thread:
        monkeypatch.setattr(running, "_run_in_child", no_child_process)
    monkeypatch.setattr(libc, "clone_tree", old_kernel_clone(libc.clone_tree))
    token = tmp_path / "token"
    token.write_text("0ld-k3rnel")
    dockerfile = """\
FROM busybox
RUN --mount=type=secret,id=token --mount=type=secret,id=token,target=/etc/tok,uid=5,gid=6,mode=0440 \\
    cat /run/secrets/token /etc/tok > /seen && stat -c '%a %u %g' /run/secrets/token /etc/tok >> /seen \\
    && ! touch /etc/tok 2>/dev/null && grep -c staged- /proc/self/mountinfo >> /seen; \\
    grep -c /etc/tok /proc/self/mountinfo >> /seen
"""
    with open("/proc/self/mountinfo") as handle:
        before = handle.read()
    results: list = []

    def run() -> None:
        results.append(builder(context, dockerfile, secrets=(Secret("token", file=str(token)),)))

    if thread:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(120)
    else:
        run()
    assert results, "the build failed"
    image_id, _ = results[0]
    with open("/proc/self/mountinfo") as handle:
        assert handle.read() == before
    seen = (ImageStore().resolve(image_id).layer_dirs[-1] / "seen").read_text()
    assert seen == "0ld-k3rnel0ld-k3rnel400 0 0\n440 5 6\n0\n1\n"
    assert top_layer_names(image_id) == ["seen"]


@pytest.mark.parametrize("thread", [False, True], ids=["main-thread", "worker-thread"])
def test_a_staged_secret_leaves_nothing_on_disk(builder, context: Path, tmp_path: Path, state_root: Path,
                                                thread: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The < 6.15 path (the decision forced at the clone, as the kernel refuses it): when the step's
    container directory is about to go, no staging directory is left in it and no file under it
    holds the secret; after the build no file of the state root does."""
    import threading

    from composer.engine.build import running
    from composer.engine.runtime import libc
    from composer.engine.runtime.state import ContainerDir

    secret = b"st4ged-n0where"
    seen: list[tuple[str, list[str]]] = []
    real_remove = ContainerDir.remove

    def inspecting_remove(cdir: ContainerDir) -> None:
        root = Path(cdir.path)
        holding = [str(path) for path in root.rglob("*") if path.is_file() and not path.is_symlink()
                   and secret in path.read_bytes()]
        seen.append(([entry.name for entry in root.glob("staged-*")], holding))
        real_remove(cdir)

    if not thread:
        monkeypatch.setattr(running, "_run_in_child", no_child_process)
    monkeypatch.setattr(libc, "clone_tree", old_kernel_clone(libc.clone_tree))
    monkeypatch.setattr(ContainerDir, "remove", inspecting_remove)
    token = tmp_path / "token"
    token.write_bytes(secret)
    dockerfile = ("FROM busybox\nRUN --mount=type=secret,id=token grep -q n0where /run/secrets/token "
                  "&& grep -c staged- /proc/self/mountinfo > /count; true\n")  # not the whole value: history
    results: list = []

    def run() -> None:
        results.append(builder(context, dockerfile, secrets=(Secret("token", file=str(token)),)))

    worker = threading.Thread(target=run) if thread else None
    if worker is not None:
        worker.start()
        worker.join(120)
    else:
        run()
    assert results, "the build failed"
    assert (ImageStore().resolve(results[0][0]).layer_dirs[-1] / "count").read_text() == "0\n"
    assert seen == [([], [])]
    leaked = [str(path) for path in state_root.rglob("*") if path.is_file() and not path.is_symlink()
              and secret in path.read_bytes()]
    assert leaked == []


def test_required_secret_missing_is_a_located_error(builder, context: Path) -> None:
    with pytest.raises(BuildError) as caught:
        builder(context, "FROM busybox\nRUN --mount=type=secret,id=npm,required=true true\n")
    assert "secret npm is required" in caught.value.message and caught.value.location.line == 2
    assert "--secret id=npm" in caught.value.hint


@pytest.fixture
def ssh_agent(tmp_path: Path):
    """A real ssh-agent on a socket of ``tmp_path`` holding one new key (stopped by its PID)."""
    if not shutil.which("ssh-agent") or not shutil.which("ssh-keygen"):
        pytest.skip("openssh-client is not installed")
    socket = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if socket.exists():
                break
            agent.wait(0.05) if agent.poll() is not None else __import__("time").sleep(0.05)
        key = tmp_path / "key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "build-key", "-f", str(key)], check=True)
        subprocess.run(["ssh-add", "-q", str(key)], check=True, env={**os.environ, "SSH_AUTH_SOCK": str(socket)},
                       capture_output=True)
        yield socket
    finally:
        agent.terminate()
        agent.wait(10)


def copy_with_libraries(binary: str, dest: Path) -> None:
    """``binary``, the libraries ``ldd`` lists and the loader, flat in ``dest``."""
    dest.mkdir(parents=True)
    shutil.copy(binary, dest / Path(binary).name)
    for line in subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        path = next((word for word in line.split() if word.startswith("/")), None)
        if path:
            shutil.copy(path, dest / Path(path).name)


def ssh_add_tools(context: Path) -> str:
    """ssh-add and its libraries in ``context/tools``; the name of the loader that runs it."""
    copy_with_libraries(shutil.which("ssh-add"), context / "tools")
    return next(p.name for p in (context / "tools").iterdir() if p.name.startswith("ld-linux"))


def test_ssh_agent_socket_in_the_step(builder, context: Path, ssh_agent: Path) -> None:
    loader = ssh_add_tools(context)
    dockerfile = f"""\
FROM busybox
COPY tools/ /opt/tools/
RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK" > /sock \\
    && /opt/tools/{loader} --library-path /opt/tools /opt/tools/ssh-add -l > /keys
"""
    image_id, _ = builder(context, dockerfile, ssh=(SshAgent("default", str(ssh_agent)),))
    top = ImageStore().resolve(image_id).layer_dirs[-1]
    assert (top / "sock").read_text() == "/run/buildkit/ssh_agent.0\n"
    assert "build-key (ED25519)" in (top / "keys").read_text()
    assert sorted(top_layer_names(image_id)) == ["keys", "sock"]


def test_ssh_key_files_get_a_private_agent(builder, context: Path, tmp_path: Path) -> None:
    if not shutil.which("ssh-agent") or not shutil.which("ssh-keygen"):
        pytest.skip("openssh-client is not installed")
    key = tmp_path / "id_build"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "file-key", "-f", str(key)], check=True)
    loader = ssh_add_tools(context)
    dockerfile = f"""\
FROM busybox
COPY tools/ /opt/tools/
RUN --mount=type=ssh,id=deploy,required=true \\
    /opt/tools/{loader} --library-path /opt/tools /opt/tools/ssh-add -l > /keys
"""
    before = set(Path("/tmp").glob("composer-ssh-*"))
    image_id, _ = builder(context, dockerfile, ssh=(parse_ssh(f"deploy={key}"),))
    assert "file-key (ED25519)" in (ImageStore().resolve(image_id).layer_dirs[-1] / "keys").read_text()
    assert set(Path("/tmp").glob("composer-ssh-*")) == before  # the private agent and its socket are gone


def test_ssh_proxy_socket_for_a_non_root_step(builder, context: Path, ssh_agent: Path) -> None:
    loader = ssh_add_tools(context)
    dockerfile = f"""\
FROM busybox
COPY tools/ /opt/tools/
USER 1000:1000
RUN --mount=type=ssh,uid=1000,gid=1000 stat -c '%u %a' "$SSH_AUTH_SOCK" > /tmp/owner \\
    && /opt/tools/{loader} --library-path /opt/tools /opt/tools/ssh-add -l > /tmp/keys
"""
    before = set(Path("/tmp").glob("composer-ssh-*"))
    image_id, _ = builder(context, dockerfile, ssh=(SshAgent("default", str(ssh_agent)),))
    top = ImageStore().resolve(image_id).layer_dirs[-1]
    assert (top / "tmp/owner").read_text() == "1000 600\n"
    assert "build-key (ED25519)" in (top / "tmp/keys").read_text()
    assert set(Path("/tmp").glob("composer-ssh-*")) == before


def test_ssh_socket_that_is_not_a_socket_is_refused(builder, context: Path, tmp_path: Path) -> None:
    key = tmp_path / "notes.txt"
    key.write_text("not a socket")
    with pytest.raises(BuildError) as caught:
        builder(context, "FROM busybox\nRUN --mount=type=ssh,required=true true\n",
                ssh=(SshAgent("default", str(key)),))
    assert "is not an agent socket" in caught.value.message and "KEY" in caught.value.hint


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (by /proc parent links)."""
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _tmpfs_mounts(*roots: Path) -> list[str]:
    """The host's tmpfs mounts under ``roots`` or with "secret" in their path (other tests may
    mount tmpfs elsewhere at the same time)."""
    with open("/proc/self/mountinfo") as handle:
        points = [line.split(" - ", 1)[0].split()[4] for line in handle if " - tmpfs " in line]
    return sorted(p for p in points if "secret" in p or any(p.startswith(str(root)) for root in roots))


def _command_lines(pids: list[int]) -> list[str]:
    lines = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                lines.append(handle.read().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return lines


def test_a_killed_build_leaves_no_secret_mount(busybox_image, state_root: Path, context: Path, tmp_path: Path,
                                               composer) -> None:
    """SIGKILL of the build process while a RUN reads a secret: the secret's tmpfs was never on the
    host, and the step ran without a separate process of composer. The next build removes the
    step's container and the scratch directory."""
    import glob
    import signal
    import sys
    import time

    from composer.engine.build.leftovers import remove_killed_builds

    token = tmp_path / "token"
    token.write_text("k1ll-me")
    (context / "Dockerfile").write_text(
        "FROM busybox\nRUN --mount=type=secret,id=tok echo \"ready $(cat /run/secrets/tok)\" && sleep 2\n")
    host_tmpfs = _tmpfs_mounts(state_root, tmp_path)
    build = subprocess.Popen([sys.executable, "-m", "composer", "image", "build", "--progress", "plain",
                              "--secret", f"id=tok,src={token}", "-t", "killed:1", str(context)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    below: list[int] = []
    try:
        assert build.stdout is not None
        for line in build.stdout:
            if "ready k1ll-me" in line:
                break
        else:
            pytest.fail("the RUN step never printed its secret")
        assert _tmpfs_mounts(state_root, tmp_path) == host_tmpfs  # while the step runs: only in its container
        below = _descendants(build.pid)
        assert not [line for line in _command_lines(below) if "composer" in line]  # only the container
        os.kill(build.pid, signal.SIGKILL)
        build.wait(10)
        deadline = time.monotonic() + 30
        while any(os.path.exists(f"/proc/{pid}") for pid in below) and time.monotonic() < deadline:
            time.sleep(0.1)  # the container dies with the build (its parent-death signal)
        assert not any(os.path.exists(f"/proc/{pid}") for pid in below)
        assert _tmpfs_mounts(state_root, tmp_path) == host_tmpfs
        (leftover,) = (state_root / "containers").iterdir()  # the step's container, which nobody removed
        (scratch,) = (state_root / "images/tmp").glob(f"build-{build.pid}-*")
        remove_killed_builds(state_root / "images/tmp")  # what the next build does first
        assert not leftover.exists() and not glob.glob(f"/sys/fs/cgroup/*/composer/{leftover.name}")
        assert not scratch.exists()
    finally:
        for pid in [build.pid, *below]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        build.wait(10)
        for leftover in (state_root / "containers").glob("*"):  # the killed build's container: its cgroup
            composer("rm", "-f", leftover.name)
