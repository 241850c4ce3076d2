"""Seccomp profiles: our default (``seccomp_default.json``), docker-format files, a BPF cache.

Compiling a profile with libseccomp takes milliseconds, so the compiled classic-BPF program is
cached under ``state_root()/cache/seccomp/<sha256 of profile + capabilities>.bpf``; the init
child only loads those bytes with prctl(PR_SET_SECCOMP).
"""

from __future__ import annotations

import os

from composer.engine.runtime.capabilities import NUMBERS
from composer.errors import ContainerRuntimeError
from composer.settings import state_root_dir

DEFAULT_PROFILE = os.path.join(os.path.dirname(__file__), "seccomp_default.json")


def _from_docker(profile: dict) -> dict:
    """Translate a docker/moby-format profile into our form."""
    default = profile.get("defaultAction", "SCMP_ACT_ERRNO")
    ours: dict = {"defaultAction": _docker_action(default), "defaultErrno": profile.get("defaultErrnoRet", 1),
                  "architectures": ["x86_64", "x86"], "rules": []}
    for entry in profile.get("syscalls", []):
        arches = entry.get("includes", {}).get("arches")
        if arches and not {"amd64", "x86", "x32"} & set(arches):
            continue
        rule = {"names": entry.get("names") or [entry.get("name")], "action": _docker_action(entry["action"]),
                "errno": entry.get("errnoRet", ours["defaultErrno"]),
                "args": [[a["index"], a["op"].removeprefix("SCMP_CMP_").lower(), a.get("value", 0),
                          a.get("valueTwo", 0)] for a in entry.get("args") or []]}
        for key, field in (("includes", "ifCap"), ("excludes", "unlessCap")):
            caps = entry.get(key, {}).get("caps")
            if caps:
                rule[field] = caps[0].removeprefix("CAP_")
        ours["rules"].append(rule)
    return ours


def _docker_action(action: str) -> str:
    return {"SCMP_ACT_ALLOW": "allow", "SCMP_ACT_ERRNO": "errno", "SCMP_ACT_KILL": "kill",
            "SCMP_ACT_KILL_PROCESS": "kill", "SCMP_ACT_LOG": "allow"}.get(action, "errno")


def _action_code(action: str, errno: int) -> int:
    from composer.engine.runtime import libc

    if action == "allow":
        return libc.SCMP_ACT_ALLOW
    if action == "kill":
        return libc.SCMP_ACT_KILL_PROCESS
    return libc.scmp_act_errno(errno)


def _applies(rule: dict, cap_mask: int) -> bool:
    if_cap, unless_cap = rule.get("ifCap"), rule.get("unlessCap")
    if if_cap and not cap_mask & (1 << NUMBERS.get(if_cap, 63)):
        return False
    return not (unless_cap and cap_mask & (1 << NUMBERS.get(unless_cap, 63)))


def compile_profile(profile: dict, cap_mask: int, fd: int) -> None:
    """Compile ``profile`` (ours or docker's format) for ``cap_mask`` and write the BPF to ``fd``."""
    from composer.engine.runtime.libc import SeccompFilter

    if "syscalls" in profile:
        profile = _from_docker(profile)
    default_errno = profile.get("defaultErrno", 1)
    scmp = SeccompFilter(_action_code(profile.get("defaultAction", "errno"), default_errno),
                         profile.get("architectures", ["x86_64"]))
    try:
        for rule in profile.get("rules", []):
            if not _applies(rule, cap_mask):
                continue
            action = _action_code(rule.get("action", "allow"), rule.get("errno", default_errno))
            args = [(a[0], a[1], int(a[2]), int(a[3]) if len(a) > 3 else 0) for a in rule.get("args", [])]
            for name in rule["names"]:
                scmp.add_rule(action, name, args)
        scmp.export_bpf(fd)
    finally:
        scmp.release()


def filter_for(profile_path: str, cap_mask: int) -> bytes:
    """The compiled BPF program of the profile at ``profile_path`` for ``cap_mask``.

    Cached under a key made of the profile's path, inode, mtime and size (hashing the content
    would cost hashlib's import on every run); any change to the file makes a new key.
    """
    try:
        info = os.stat(profile_path)
    except OSError as error:
        raise ContainerRuntimeError(f"cannot read seccomp profile {profile_path}: {error.strerror}") from error
    where = os.path.realpath(profile_path).encode().hex()[-96:]
    key = f"{where}-{info.st_ino}-{info.st_mtime_ns}-{info.st_size}-{cap_mask:x}"
    cache = os.path.join(state_root_dir(), "cache", "seccomp", key + ".bpf")
    try:
        with open(cache, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        pass
    try:
        with open(profile_path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise ContainerRuntimeError(f"cannot read seccomp profile {profile_path}: {error.strerror}") from error
    return _compile_to_cache(raw, profile_path, cap_mask, cache)


def _compile_to_cache(raw: bytes, profile_path: str, cap_mask: int, cache: str) -> bytes:
    import json

    try:
        profile = json.loads(raw)
    except ValueError as error:
        raise ContainerRuntimeError(f"{profile_path}: not a valid seccomp profile: {error}") from error
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    temporary = f"{cache}.{os.getpid()}"
    fd = os.open(temporary, os.O_CREAT | os.O_TRUNC | os.O_RDWR, 0o600)
    try:
        try:
            compile_profile(profile, cap_mask, fd)
        except (OSError, KeyError, TypeError, IndexError) as error:
            raise ContainerRuntimeError(f"{profile_path}: cannot compile seccomp profile: {error}") from error
        os.lseek(fd, 0, os.SEEK_SET)
        program = os.read(fd, 1 << 20)
    finally:
        os.close(fd)
    os.rename(temporary, cache)
    return program
