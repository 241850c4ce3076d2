"""The cgroup v2 device filter's eBPF program, instruction by instruction."""

from __future__ import annotations

import struct

import pytest

from composer.engine.runtime.cgroups.devices import device_program, parse_rule
from composer.errors import CgroupError


def _decode(program: bytes) -> list[tuple[int, int, int, int, int]]:
    out = []
    for offset in range(0, len(program), 8):
        code, regs, off, imm = struct.unpack("<BBhi", program[offset:offset + 8])
        out.append((code, regs & 0xF, regs >> 4, off, imm))
    return out


def test_parse_rule():
    assert parse_rule("c 1:3 rwm") == (2, 1, 3, 7)
    assert parse_rule("b *:* m") == (1, -1, -1, 1)
    assert parse_rule("a 7:* r") == (0, 7, -1, 2)
    with pytest.raises(CgroupError, match="invalid device rule"):
        parse_rule("x 1:3 rwm")


def test_no_rules_denies_everything():
    program = _decode(device_program([]))
    assert len(program) == 6 + 2
    assert program[-2:] == [(0xB7, 0, 0, 0, 0), (0x95, 0, 0, 0, 0)]  # r0 = 0; exit


def test_one_rule_block_jumps_to_the_next_rule_on_mismatch():
    program = _decode(device_program(["c 1:3 rw"]))
    block = program[6:-2]
    assert block[0] == (0x55, 2, 0, 7, 2)          # type != char -> skip the 7 remaining insns of the block
    assert block[1] == (0xBC, 1, 3, 0, 0)          # r1 = access
    assert block[2][:2] == (0x54, 1) and block[2][4] & 0xFFFFFFFF == ~6 & 0xFFFFFFFF  # r1 &= ~(r|w)
    assert block[3] == (0x55, 1, 0, 4, 0)          # a forbidden access bit -> next rule
    assert block[4] == (0x55, 4, 0, 3, 1) and block[5] == (0x55, 5, 0, 2, 3)  # major, minor
    assert block[6:] == [(0xB7, 0, 0, 0, 1), (0x95, 0, 0, 0, 0)]  # allow


def test_wildcards_drop_their_checks():
    assert len(_decode(device_program(["a *:* m"]))) == 6 + 5 + 2
