"""Device control on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program built from device rules.

cgroup v2 has no devices.allow file; the kernel asks an eBPF program attached to the cgroup for
each device access (the context is ``struct bpf_cgroup_dev_ctx {u32 access_type; u32 major; u32
minor}``, access_type = access << 16 | type). ``device_program`` turns docker-style rules (``c 1:3
rwm``, ``b *:* m``) into such a program, the way runc's devicefilter does: one block per rule that
returns 1 (allow) when everything matches, and 0 (deny) at the end. ``attach_device_filter`` loads
and attaches it with the bpf(2) syscall.
"""

from __future__ import annotations

import ctypes
import os
import struct

from composer.errors import CgroupError

TYPES = {"a": 0, "b": 1, "c": 2}  # BPF_DEVCG_DEV_BLOCK = 1, BPF_DEVCG_DEV_CHAR = 2 ("a": any)
ACCESS = {"m": 1, "r": 2, "w": 4}  # BPF_DEVCG_ACC_MKNOD, _READ, _WRITE

SYS_BPF = 321
BPF_PROG_LOAD, BPF_PROG_ATTACH = 5, 8
BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE = 15, 6

# instruction classes and operations (linux/bpf_common.h, linux/bpf.h)
LDX_MEM_W, ALU32_AND_K, ALU32_RSH_K, MOV32_X = 0x61, 0x54, 0x74, 0xBC
JNE_K, MOV64_K, EXIT = 0x55, 0xB7, 0x95


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    """One 8-byte eBPF instruction."""
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def parse_rule(rule: str) -> tuple[int, int, int, int]:
    """``"c 1:3 rwm"`` -> (type, major, minor, access); -1 stands for ``*``."""
    try:
        kind, numbers, access = rule.split()
        major, minor = numbers.split(":")
        return (TYPES[kind], -1 if major == "*" else int(major), -1 if minor == "*" else int(minor),
                sum(ACCESS[a] for a in set(access)))
    except (ValueError, KeyError):
        raise CgroupError(f"invalid device rule {rule!r}", hint='use "c|b|a MAJOR:MINOR rwm" (* for any)') from None


def _rule_block(kind: int, major: int, minor: int, access: int) -> list[bytes]:
    """Checks of one rule against r2 (type), r3 (access), r4 (major), r5 (minor); allows on a match."""
    checks: list[tuple[int, int, int]] = []  # (code, dst, imm) each jumping to the next rule on mismatch
    if kind:
        checks.append((JNE_K, 2, kind))
    checks.append((MOV32_X, 1, 3))  # r1 = access; r1 &= ~allowed; a bit left over means "no"
    checks.append((ALU32_AND_K, 1, ~access & 0xFFFFFFFF))
    checks.append((JNE_K, 1, 0))
    if major >= 0:
        checks.append((JNE_K, 4, major))
    if minor >= 0:
        checks.append((JNE_K, 5, minor))
    block_length = len(checks) + 2
    out = []
    for index, (code, dst, imm) in enumerate(checks):
        if code == MOV32_X:
            out.append(insn(code, dst=dst, src=imm))
        elif code == JNE_K:
            out.append(insn(code, dst=dst, off=block_length - index - 1, imm=imm))
        else:
            out.append(insn(code, dst=dst, imm=struct.unpack("<i", struct.pack("<I", imm))[0]))
    return out + [insn(MOV64_K, dst=0, imm=1), insn(EXIT)]


def device_program(rules: tuple[str, ...] | list[str]) -> bytes:
    """The eBPF program allowing exactly ``rules`` (everything else is denied)."""
    program = [insn(LDX_MEM_W, dst=2, src=1, off=0), insn(ALU32_AND_K, dst=2, imm=0xFFFF),
               insn(LDX_MEM_W, dst=3, src=1, off=0), insn(ALU32_RSH_K, dst=3, imm=16),
               insn(LDX_MEM_W, dst=4, src=1, off=4), insn(LDX_MEM_W, dst=5, src=1, off=8)]
    for rule in rules:
        program += _rule_block(*parse_rule(rule))
    program += [insn(MOV64_K, dst=0, imm=0), insn(EXIT)]
    return b"".join(program)


def _bpf(command: int, attr: bytes) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    result = libc.syscall(SYS_BPF, command, buffer, len(attr))
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


def attach_device_filter(cgroup_dir: str, rules: tuple[str, ...] | list[str]) -> None:
    """Load the program for ``rules`` and attach it to the cgroup v2 directory ``cgroup_dir``."""
    code = ctypes.create_string_buffer(device_program(rules))
    license_ = ctypes.create_string_buffer(b"Apache-2.0")
    attr = struct.pack("<IIQQIIQ", BPF_PROG_TYPE_CGROUP_DEVICE, len(code.raw) // 8, ctypes.addressof(code),
                       ctypes.addressof(license_), 0, 0, 0).ljust(128, b"\0")
    try:
        program = _bpf(BPF_PROG_LOAD, attr)
    except OSError as error:
        raise CgroupError(f"cannot load the device filter for {cgroup_dir}: {error.strerror}",
                          hint="cgroup v2 device control needs CONFIG_CGROUP_BPF") from None
    try:
        target = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            _bpf(BPF_PROG_ATTACH, struct.pack("<IIII", target, program, BPF_CGROUP_DEVICE, 0).ljust(32, b"\0"))
        finally:
            os.close(target)
    except OSError as error:
        raise CgroupError(f"cannot attach the device filter to {cgroup_dir}: {error.strerror}") from None
    finally:
        os.close(program)  # the attachment keeps the program alive with the cgroup
