"""The exec trampoline (CVE-2019-5736): its ELF, its sealed memfd, its exec and error protocol."""

from __future__ import annotations

import errno
import os
import shutil
import struct
import sys

import pytest

from composer.engine.runtime import trampoline
from composer.engine.runtime.init import close_inherited_fds

needs_trampoline = pytest.mark.skipif(os.uname().machine not in trampoline.CODE, reason="no trampoline here")


def with_interpreter(program: str, interpreter: bytes, dest: str) -> None:
    """Copy the dynamic ELF ``program`` to ``dest`` with its PT_INTERP changed to ``interpreter``."""
    data = open(program, "rb").read()
    current = os.fsencode(trampoline._interpreter(program)) + b"\0"
    assert len(interpreter) < len(current)
    with open(dest, "wb") as handle:
        handle.write(data.replace(current, interpreter.ljust(len(current), b"\0"), 1))
    os.chmod(dest, 0o755)


def _exec(path: str, argv: list[str]) -> tuple[bytes, int, bytes]:
    """Run ``path`` through the trampoline in a child: (its report, exit code, its stdout)."""
    error_r, error_w = os.pipe2(os.O_CLOEXEC)
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(out_w, 1)
            os.dup2(out_w, 2)
            close_inherited_fds(error_w, trampoline.memfd())
            trampoline.execve(path, argv, {"MARK": "1"}, error_w)
        finally:
            os._exit(99)
    os.close(error_w)
    os.close(out_w)
    report, output = b"", b""
    while chunk := os.read(error_r, 4096):
        report += chunk
    while chunk := os.read(out_r, 65536):
        output += chunk
    os.close(error_r)
    os.close(out_r)
    return report, os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), output


@pytest.mark.parametrize("machine", sorted(trampoline.CODE))
def test_elf_is_a_static_pie_with_its_code_at_the_entry(machine):
    image = trampoline.elf(machine)
    assert image[:6] == b"\x7fELF\x02\x01"
    e_type, e_machine, _, entry, phoff = struct.unpack_from("<HHIQQ", image, 16)
    assert (e_type, e_machine, phoff) == (3, trampoline.CODE[machine][0], 64)
    assert image[entry:] == trampoline.CODE[machine][1] and image.endswith(trampoline.MESSAGE)
    assert struct.unpack_from("<II", image, 64) == (1, 5)  # PT_LOAD, read + execute (never write)
    assert len(image) < 600


@needs_trampoline
def test_memfd_is_sealed_made_once_and_remade_when_closed():
    fd = trampoline.memfd()
    assert trampoline.memfd() == fd and not os.get_inheritable(fd)
    assert trampoline.libc.get_seals(fd) == trampoline.SEALS
    reopened = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY)  # as /proc/PID/exe would be
    try:
        for change in (lambda: os.write(reopened, b"x"), lambda: os.ftruncate(reopened, 0)):
            with pytest.raises(OSError) as raised:
                change()
            assert raised.value.errno == errno.EPERM
    finally:
        os.close(reopened)
    os.close(fd)
    again = trampoline.memfd()
    assert again >= 0 and trampoline.libc.get_seals(again) == trampoline.SEALS


@needs_trampoline
def test_program_runs_with_its_argv_and_env_and_without_the_error_pipe():
    report, code, output = _exec("/bin/sh", ["my-sh", "-c", 'echo "$0 $MARK"; ls /proc/self/fd; readlink /proc/$$/exe'])
    assert (report, code) == (b"", 0), output
    lines = output.decode().split("\n")
    assert lines[0] == "my-sh 1" and os.path.basename(lines[-2]) in ("sh", "dash", "bash")
    assert set(lines[1:-2]) <= {"0", "1", "2", "3"}  # 3: ls's own directory; no error pipe, no memfd


@needs_trampoline
def test_failed_exec_is_reported_as_docker_words_it(tmp_path):
    report, code, _ = _exec(str(tmp_path / "missing"), ["missing"])
    assert (report, code) == (bytes([0, errno.ENOENT]) + os.fsencode(tmp_path / "missing"), 127)
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x01\x02 not a program")
    garbage.chmod(0o755)
    report, _, _ = _exec(str(garbage), ["garbage"])
    assert trampoline.failure(report) == (1, f"exec {garbage}: exec format error")
    assert trampoline.failure(b"126 exec: permission denied") is None


@needs_trampoline
def test_proc_self_exe_as_interpreter_runs_the_trampoline_not_python(tmp_path):
    script = tmp_path / "script"
    script.write_text("#!/proc/self/exe\nprint('python ran')\n")
    script.chmod(0o755)
    programs = [str(script)]
    if trampoline._interpreter("/bin/true"):  # a dynamic /bin/true: make its interpreter /proc/self/exe
        with_interpreter("/bin/true", b"/proc/self/exe", str(tmp_path / "true"))
        programs.append(str(tmp_path / "true"))
    for program in programs:
        report, code, output = _exec(program, [program])
        assert (report, code, output) == (b"", 126, trampoline.MESSAGE), program


def test_own_interpreter_follows_every_level(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_text("#!/proc/self/exe -u\n")
    second.write_text(f"#! {first} x\n")
    assert trampoline.own_interpreter(str(first)) == "/proc/self/exe"
    assert trampoline.own_interpreter(str(second)) == "/proc/self/exe"
    assert trampoline.own_interpreter("/bin/true") is None
    (tmp_path / "plain").write_text("echo hi\n")
    assert trampoline.own_interpreter(str(tmp_path / "plain")) is None
    if trampoline._interpreter("/bin/true"):
        with_interpreter("/bin/true", b"/proc/self/exe", str(tmp_path / "true"))
        assert trampoline.own_interpreter(str(tmp_path / "true")) == "/proc/self/exe"
    python = tmp_path / "python"
    shutil.copy(sys.executable, python)  # a copy is another file: not our own executable
    (tmp_path / "copy").write_text(f"#!{python}\n")
    assert trampoline.own_interpreter(str(tmp_path / "copy")) is None


def test_workdir_is_made_without_following_a_symlink(tmp_path):
    """-w's directories: a symlink met on the way (one swapped in after ``secure_join``) stops the
    walk; nothing is created where it points."""
    from composer.engine.runtime.init import make_workdir

    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_workdir("/a/b/c", str(root))
    make_workdir("/a/b/c", str(root))  # existing: fine
    assert (root / "a/b/c").is_dir()
    os.symlink(outside, root / "a/link")
    with pytest.raises(OSError) as raised:
        make_workdir("/a/link/new", str(root))
    assert raised.value.errno in (errno.ELOOP, errno.ENOTDIR) and os.listdir(outside) == []
    (root / "file").write_text("")
    with pytest.raises(NotADirectoryError):
        make_workdir("/file/sub", str(root))


@pytest.mark.parametrize("machine", sorted(trampoline.CODE))
def test_each_machines_trampoline_under_user_mode_emulation(machine, tmp_path):
    """The other machine's code, run by qemu-user where it is installed (the native one runs above)."""
    import subprocess

    qemu = shutil.which(f"qemu-{machine}")
    if machine == os.uname().machine:
        pytest.skip("this machine's own trampoline runs natively in the tests above")
    if not qemu:
        pytest.skip(f"qemu-{machine} not installed (Debian: qemu-user)")
    program = tmp_path / "trampoline"
    program.write_bytes(trampoline.elf(machine))
    program.chmod(0o755)
    report = tmp_path / "report"
    with open(report, "wb") as handle:
        failed = subprocess.run([qemu, "-0", str(handle.fileno()), str(program), "/nonexistent", "x"],
                                pass_fds=(handle.fileno(),), capture_output=True)
    assert failed.returncode == 127 and report.read_bytes() == bytes([0, errno.ENOENT]) + b"/nonexistent"
    ran = subprocess.run([qemu, "-0", "9", str(program), "/bin/sh", "my-sh", "-c", 'echo "$0 $MARK"'],
                         capture_output=True, text=True, env={"MARK": "1"})
    assert (ran.returncode, ran.stdout) == (0, "my-sh 1\n"), ran.stderr
    misused = subprocess.run([qemu, str(program), "/bin/true"], capture_output=True)
    assert (misused.returncode, misused.stderr) == (126, trampoline.MESSAGE)


def test_without_a_trampoline_every_interpreter_level_is_checked(tmp_path, monkeypatch):
    """Other machines (no trampoline): a program whose interpreter is our own executable is refused
    before the direct execve."""
    from composer.engine.runtime.init import ExecFailure, find_executable

    monkeypatch.setattr(trampoline, "CODE", {})
    monkeypatch.setattr(trampoline, "_memfd", (-1, 0, 0))
    assert trampoline.memfd() == -1
    script = tmp_path / "script"
    script.write_text("#!/proc/self/exe\n")
    script.chmod(0o755)
    with pytest.raises(ExecFailure) as refused:
        find_executable(str(script), "")
    assert refused.value.code == 126 and "CVE-2019-5736" in str(refused.value)
    with pytest.raises(PermissionError, match="CVE-2019-5736"):  # (where a memfd may not be executed)
        trampoline._direct(str(script), [str(script)], {})
    assert find_executable("true", "/bin:/usr/bin").endswith("/true")


@needs_trampoline
def test_where_no_memfd_may_be_executed_the_direct_exec_keeps_no_error_pipe(monkeypatch):
    """EACCES from the memfd's execve (an LSM policy): the program is exec'd directly, without the
    error pipe (no trampoline closes it there; the runtime would wait for its EOF until the program ends)."""
    real_execve = os.execve

    def refuse_memfd(path, argv, env):
        if isinstance(path, int):
            raise PermissionError(errno.EACCES, "memfd exec refused")
        real_execve(path, argv, env)

    monkeypatch.setattr(trampoline.os, "execve", refuse_memfd)
    report, code, output = _exec("/bin/sh", ["sh", "-c", "ls /proc/self/fd"])
    assert (report, code) == (b"", 0), output
    assert set(output.decode().split()) <= {"0", "1", "2", "3"}  # 3: ls's own directory
