"""The container process's last exec goes through a tiny static program in a sealed memfd.

runc's CVE-2019-5736: the runtime's final ``execve`` of an entrypoint ``#!/proc/self/exe`` script
(or an ELF whose interpreter is ``/proc/self/exe``) has the kernel open ``/proc/self/exe`` of the
process doing the exec, the runtime's own binary (here: the host's Python), and run it inside
the container, where its root can reopen the binary for writing. runc re-execs itself from a
sealed memfd copy first; a copy of Python would cost too much, so composer execs a ~300-byte
static "trampoline" from a sealed memfd (``execveat(fd, "", ..., AT_EMPTY_PATH)``, no /proc
needed) and only the trampoline execs the user's program. At that exec /proc/self/exe is the
sealed memfd: a ``#!/proc/self/exe`` program starts the trampoline again, which refuses to run
(it is not called the way composer calls it), and nothing can write through it (F_SEAL_WRITE).

The trampoline's contract, ``trampoline ERRFD PATH ARGV0 ARGS...``: set FD_CLOEXEC on ERRFD (a
decimal fd number), ``execve(PATH, [ARGV0, ARGS...], envp)``; if that fails, write the two bytes
``NUL, errno`` and PATH to ERRFD and exit 127. Called any other way it writes a line to stderr
and exits 126. On a machine without a trampoline here (neither x86_64 nor aarch64) or where no memfd may be
executed, the process execs directly after checking every interpreter level of the program.
"""

from __future__ import annotations

import errno
import os
import struct

from composer.engine.runtime import libc

MESSAGE = b"composer: /proc/self/exe is the runtime's exec trampoline, not a program (CVE-2019-5736)\n"
SEALS = libc.F_SEAL_SEAL | libc.F_SEAL_SHRINK | libc.F_SEAL_GROW | libc.F_SEAL_WRITE

# x86_64, Linux syscall ABI (number in eax, arguments in rdi rsi rdx; rcx and r11 clobbered).
# At entry: [rsp] argc, [rsp+8] argv[0] ..., NULL, envp ..., NULL. r12 holds the error fd.
X86_64 = bytes.fromhex(
    "48833c2403"      # 00 cmp  qword [rsp], 3        argc >= 3 (ERRFD PATH ARGV0)?
    "0f82a3000000"    # 05 jb   misuse (ae)
    "488b5c2408"      # 0b mov  rbx, [rsp+8]          rbx = argv[0], the error fd in decimal
    "4531e4"          # 10 xor  r12d, r12d            fd = 0
    "0fb603"          # 13 movzx eax, byte [rbx]      first character
    "83e830"          # 16 sub  eax, '0'
    "83f809"          # 19 cmp  eax, 9
    "0f878c000000"    # 1c ja   misuse (ae)           empty, or not a digit
    "456be40a"        # 22 digit: imul r12d, r12d, 10
    "4101c4"          # 26 add  r12d, eax             fd = fd * 10 + digit
    "48ffc3"          # 29 inc  rbx
    "0fb603"          # 2c movzx eax, byte [rbx]      next character
    "85c0"            # 2f test eax, eax
    "740a"            # 31 je   parsed (3d)           NUL: the number ends
    "83e830"          # 33 sub  eax, '0'
    "83f809"          # 36 cmp  eax, 9
    "76e7"            # 39 jbe  digit (22)
    "eb71"            # 3b jmp  misuse (ae)           a non-digit in the number
    "4489e7"          # 3d parsed: mov edi, r12d
    "be02000000"      # 40 mov  esi, 2                F_SETFD
    "ba01000000"      # 45 mov  edx, 1                FD_CLOEXEC
    "b848000000"      # 4a mov  eax, 72               fcntl
    "0f05"            # 4f syscall
    "488b7c2410"      # 51 mov  rdi, [rsp+16]         PATH = argv[1]
    "488d742418"      # 56 lea  rsi, [rsp+24]         &argv[2]
    "488b0424"        # 5b mov  rax, [rsp]            argc
    "488d54c410"      # 5f lea  rdx, [rsp+rax*8+16]   envp = &argv[argc + 1]
    "b83b000000"      # 64 mov  eax, 59               execve
    "0f05"            # 69 syscall                    returns only on failure: rax = -errno
    "f7d8"            # 6b neg  eax
    "c1e008"          # 6d shl  eax, 8                bytes NUL, errno (little-endian)
    "894424f8"        # 70 mov  [rsp-8], eax          (the red zone)
    "4489e7"          # 74 mov  edi, r12d
    "488d7424f8"      # 77 lea  rsi, [rsp-8]
    "ba02000000"      # 7c mov  edx, 2
    "b801000000"      # 81 mov  eax, 1                write(fd, report, 2)
    "0f05"            # 86 syscall
    "488b742410"      # 88 mov  rsi, [rsp+16]         PATH
    "4889f2"          # 8d mov  rdx, rsi
    "803a00"          # 90 length: cmp byte [rdx], 0
    "7405"            # 93 je   counted (9a)
    "48ffc2"          # 95 inc  rdx
    "ebf6"            # 98 jmp  length (90)
    "4829f2"          # 9a counted: sub rdx, rsi       strlen(PATH)
    "4489e7"          # 9d mov  edi, r12d
    "b801000000"      # a0 mov  eax, 1                write(fd, PATH, strlen(PATH))
    "0f05"            # a5 syscall
    "bf7f000000"      # a7 mov  edi, 127
    "eb1d"            # ac jmp  quit (cb)
    "bf02000000"      # ae misuse: mov edi, 2          stderr
    "488d3518000000"  # b3 lea  rsi, [rip+0x18]       MESSAGE (d2)
    "ba59000000"      # ba mov  edx, 89               len(MESSAGE)
    "b801000000"      # bf mov  eax, 1                write
    "0f05"            # c4 syscall
    "bf7e000000"      # c6 mov  edi, 126
    "b8e7000000"      # cb quit: mov eax, 231          exit_group
    "0f05"            # d0 syscall
) + MESSAGE           # d2

# aarch64, Linux syscall ABI (number in x8, arguments in x0 x1 x2, svc #0). At entry: [sp] argc,
# [sp+8] argv[0] ..., NULL, envp ..., NULL. w19 holds the error fd. Little-endian words.
AARCH64 = b"".join(struct.pack("<I", word) for word in (
    0xF94003E0,  # 00 ldr  x0, [sp]               argc
    0xF1000C1F,  # 04 cmp  x0, #3                 ERRFD PATH ARGV0?
    0x540005E3,  # 08 b.lo misuse (c4)
    0xF94007E1,  # 0c ldr  x1, [sp, #8]           argv[0], the error fd in decimal
    0x52800013,  # 10 mov  w19, #0                fd = 0
    0x52800143,  # 14 mov  w3, #10
    0x39400022,  # 18 ldrb w2, [x1]               first character
    0x5100C042,  # 1c sub  w2, w2, #'0'
    0x7100245F,  # 20 cmp  w2, #9
    0x54000508,  # 24 b.hi misuse (c4)            empty, or not a digit
    0x1B030A73,  # 28 digit: madd w19, w19, w3, w2  fd = fd * 10 + digit
    0x38401C22,  # 2c ldrb w2, [x1, #1]!          next character
    0x340000A2,  # 30 cbz  w2, parsed (44)        NUL: the number ends
    0x5100C042,  # 34 sub  w2, w2, #'0'
    0x7100245F,  # 38 cmp  w2, #9
    0x54FFFF69,  # 3c b.ls digit (28)
    0x14000021,  # 40 b    misuse (c4)            a non-digit in the number
    0x2A1303E0,  # 44 parsed: mov w0, w19
    0xD2800041,  # 48 mov  x1, #2                 F_SETFD
    0xD2800022,  # 4c mov  x2, #1                 FD_CLOEXEC
    0xD2800328,  # 50 mov  x8, #25                fcntl
    0xD4000001,  # 54 svc  #0
    0xF9400BE0,  # 58 ldr  x0, [sp, #16]          PATH = argv[1]
    0x910063E1,  # 5c add  x1, sp, #24            &argv[2]
    0xF94003E2,  # 60 ldr  x2, [sp]               argc
    0x8B226FE2,  # 64 add  x2, sp, x2, lsl #3
    0x91004042,  # 68 add  x2, x2, #16            envp = &argv[argc + 1]
    0xD2801BA8,  # 6c mov  x8, #221               execve
    0xD4000001,  # 70 svc  #0                     returns only on failure: x0 = -errno
    0x4B0003E0,  # 74 neg  w0, w0
    0x53185C00,  # 78 lsl  w0, w0, #8             bytes NUL, errno (little-endian)
    0xB81F0FE0,  # 7c str  w0, [sp, #-16]!        (sp stays 16-byte aligned)
    0x910003E1,  # 80 mov  x1, sp
    0x2A1303E0,  # 84 mov  w0, w19
    0xD2800042,  # 88 mov  x2, #2
    0xD2800808,  # 8c mov  x8, #64                write(fd, report, 2)
    0xD4000001,  # 90 svc  #0
    0xF94013E1,  # 94 ldr  x1, [sp, #32]          PATH (argv[1], 16 bytes further now)
    0xAA0103E2,  # 98 mov  x2, x1
    0x39400043,  # 9c length: ldrb w3, [x2]
    0x34000063,  # a0 cbz  w3, counted (ac)
    0x91000442,  # a4 add  x2, x2, #1
    0x17FFFFFD,  # a8 b    length (9c)
    0xCB010042,  # ac counted: sub x2, x2, x1      strlen(PATH)
    0x2A1303E0,  # b0 mov  w0, w19
    0xD2800808,  # b4 mov  x8, #64                write(fd, PATH, strlen(PATH))
    0xD4000001,  # b8 svc  #0
    0xD2800FE0,  # bc mov  x0, #127
    0x14000007,  # c0 b    quit (dc)
    0xD2800040,  # c4 misuse: mov x0, #2          stderr
    0x100000E1,  # c8 adr  x1, MESSAGE (e4)
    0xD2800B22,  # cc mov  x2, #89                len(MESSAGE)
    0xD2800808,  # d0 mov  x8, #64                write
    0xD4000001,  # d4 svc  #0
    0xD2800FC0,  # d8 mov  x0, #126
    0xD2800BC8,  # dc quit: mov x8, #94            exit_group
    0xD4000001,  # e0 svc  #0
)) + MESSAGE     # e4

CODE = {"x86_64": (62, X86_64), "aarch64": (183, AARCH64)}  # machine: (e_machine, code)


def elf(machine: str) -> bytes:
    """A static, position-independent ELF64 running ``CODE[machine]``: the ELF header, a PT_LOAD of
    the whole file (read+execute) and a PT_GNU_STACK (no executable stack), then the code."""
    e_machine, code = CODE[machine]
    header_size, phdr_size, phnum = 64, 56, 2
    entry = header_size + phdr_size * phnum
    size = entry + len(code)
    header = struct.pack("<4sBBBB8xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0,  # ELF64, little-endian, v1, SysV
                         3, e_machine, 1, entry, header_size, 0, 0,  # ET_DYN, e_entry, e_phoff, no sections
                         header_size, phdr_size, phnum, 0, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, size, size, 0x1000)  # PT_LOAD, R+X, offset/vaddr 0
    stack = struct.pack("<IIQQQQQQ", 0x6474E551, 6, 0, 0, 0, 0, 0, 16)  # PT_GNU_STACK, R+W
    return header + load + stack + code


_memfd: tuple[int, int, int] = (-1, 0, 0)  # fd, st_dev, st_ino of this process's trampoline


def memfd() -> int:
    """This process's sealed trampoline (close-on-exec), made once; -1 where there is none."""
    global _memfd
    fd, dev, ino = _memfd
    if fd >= 0:
        try:
            stat = os.fstat(fd)
            if (stat.st_dev, stat.st_ino) == (dev, ino):
                return fd
        except OSError:
            pass  # closed by someone who closes every fd (a daemonising child): make it again
    fd = _make_memfd()
    if fd >= 0:
        stat = os.fstat(fd)
        _memfd = (fd, stat.st_dev, stat.st_ino)
    return fd


def _make_memfd() -> int:
    machine = os.uname().machine
    if machine not in CODE:
        return -1
    try:
        fd = os.memfd_create("composer-exec", libc.MFD_CLOEXEC | libc.MFD_ALLOW_SEALING | libc.MFD_EXEC)
    except OSError as error:
        if error.errno != errno.EINVAL:  # EINVAL: a kernel before 6.3, without MFD_EXEC
            return -1  # EACCES: vm.memfd_noexec forbids executable memfds
        fd = os.memfd_create("composer-exec", libc.MFD_CLOEXEC | libc.MFD_ALLOW_SEALING)
    try:
        os.write(fd, elf(machine))
        libc.add_seals(fd, SEALS)
    except OSError:
        os.close(fd)
        return -1
    return fd


def execve(path: str, argv: list[str], env: dict[str, str], error_fd: int) -> None:
    """Replace this process with ``path`` through the trampoline (never returns; OSError when not
    even the trampoline could be run). ``error_fd`` gets the trampoline's report (``failure``)."""
    fd = memfd()
    if fd < 0:  # the caller has checked ``own_interpreter``
        os.execve(path, argv, env)
    os.set_inheritable(error_fd, True)  # the trampoline sets FD_CLOEXEC again before its execve
    args = [str(error_fd), path, *argv]
    try:
        os.execve(fd, args, env)  # glibc's fexecve: execveat(fd, "", ..., AT_EMPTY_PATH)
    except OSError as error:
        if error.errno == errno.EACCES:  # no memfd may be executed here (an LSM policy)
            os.set_inheritable(error_fd, False)  # no trampoline to close it: the program must not keep it
            _direct(path, argv, env)
        if error.errno not in (errno.EPERM, errno.ENOSYS):  # a seccomp profile without execveat
            raise
    os.execve(f"/proc/self/fd/{fd}", args, env)


def _direct(path: str, argv: list[str], env: dict[str, str]) -> None:
    """execve ``path`` itself, unless an interpreter of it is our own executable."""
    interpreter = own_interpreter(path)
    if interpreter:
        raise PermissionError(errno.EACCES, f"{path}: its interpreter {interpreter} is the runtime's own "
                                            "executable, which a container may not run (CVE-2019-5736)")
    os.execve(path, argv, env)


def own_interpreter(path: str) -> str | None:
    """Without a trampoline: the interpreter of ``path``, at any level the kernel follows (``#!``
    lines, an ELF's PT_INTERP), that is this process's own executable; None if there is none."""
    for _ in range(5):  # the kernel follows at most 4 levels of interpreters
        try:
            path = _interpreter(path)
            if not path:
                return None
            if os.path.samefile(path, "/proc/self/exe"):
                return path
        except (OSError, ValueError, KeyError, struct.error):
            return None  # unreadable or malformed: the kernel's execve will say so
    return None


# ELF class (32, 64-bit): word format; offsets of e_phoff, e_phentsize (e_phnum follows), p_offset, p_filesz
ELF_LAYOUT = {1: ("I", 28, 42, 4, 16), 2: ("Q", 32, 54, 8, 32)}


def _interpreter(path: str) -> str | None:
    """The interpreter named by a ``#!`` line or an ELF's PT_INTERP."""
    with open(path, "rb") as handle:
        head = handle.read(256)
        if head.startswith(b"#!"):
            words = head[2:].split(b"\n", 1)[0].split()
            return os.fsdecode(words[0]) if words else None
        if head[:4] != b"\x7fELF" or len(head) < 64:
            return None
        word, phoff_at, entsize_at, offset_at, filesz_at = ELF_LAYOUT[head[4]]
        order = "<" if head[5] == 1 else ">"
        (phoff,) = struct.unpack_from(order + word, head, phoff_at)
        entsize, count = struct.unpack_from(order + "HH", head, entsize_at)
        handle.seek(phoff)
        table = handle.read(entsize * min(count, 64))
        for start in range(0, len(table) - entsize + 1, entsize):
            if struct.unpack_from(order + "I", table, start)[0] == 3:  # PT_INTERP
                (offset,) = struct.unpack_from(order + word, table, start + offset_at)
                (size,) = struct.unpack_from(order + word, table, start + filesz_at)
                handle.seek(offset)
                return os.fsdecode(handle.read(min(size, 4096)).split(b"\0", 1)[0])
    return None


def failure(report: bytes) -> tuple[int, str] | None:
    """The trampoline's report of a failed execve (NUL, errno, the path) as docker's runtime words
    it, with its exit code; None if ``report`` is not one (a message of the runtime's own)."""
    if len(report) < 2 or report[0] != 0:
        return None
    return 1, f"exec {os.fsdecode(report[2:])}: {os.strerror(report[1]).lower()}"
