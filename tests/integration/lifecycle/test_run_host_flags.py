"""``run``/``create`` flags docker 28's ``run --help`` lists that composer lacked: applied where the
host can (``--cpu-rt-*`` in the cgroup, ``--mac-address`` on the interface, ``--kernel-memory`` and
``--volume-driver`` recorded), else refused as a Linux dockerd (20.10) and docker's CLI refuse
them: the messages and exit codes compared with docker CLI 28 on a private dockerd, nothing made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from composer.engine.runtime.cgroups import detect_setup, supports_realtime

pytestmark = pytest.mark.root

WINDOWS = '"{}" is only supported on a Docker daemon running on windows, but the Docker daemon is running on linux'


@pytest.mark.parametrize(("flags", "code", "message"), [
    (["--cpu-count", "0"], 1, WINDOWS.format("--cpu-count")),
    (["--cpu-percent", "50"], 1, WINDOWS.format("--cpu-percent")),
    (["--io-maxbandwidth", "1m"], 1, WINDOWS.format("--io-maxbandwidth")),
    (["--io-maxiops", "10"], 1, WINDOWS.format("--io-maxiops")),
    (["--cpu-count", "x"], 125, 'invalid argument "x" for "--cpu-count" flag: strconv.ParseInt: parsing "x": '
                                "invalid syntax"),
    (["--kernel-memory", "x"], 125, "invalid argument \"x\" for \"--kernel-memory\" flag: invalid size: 'x'"),
    (["--kernel-memory", "1m"], 125, "Minimum kernel memory limit allowed is 6MB"),
    (["--cpu-rt-period", "1000000", "--cpu-rt-runtime", "2000000"], 125,
     "cpu real-time runtime cannot be higher than cpu real-time period"),
    (["--gpus", "all"], 125, 'could not select device driver "" with capabilities: [[gpu]]'),
    (["--gpus", "count=2,driver=nvidia"], 125, 'could not select device driver "nvidia" with capabilities: [[gpu]]'),
    (["--gpus", '"capabilities=gpu,utility"'], 125,
     'could not select device driver "" with capabilities: [[gpu utility gpu]]'),
    (["--gpus", "bogus=1"], 125, "invalid argument \"bogus=1\" for \"--gpus\" flag: unexpected key 'bogus' in 'bogus=1'"),
    (["--gpus", "foo"], 125, 'invalid argument "foo" for "--gpus" flag: invalid count (foo): value must be either '
                             '"all" or an integer: invalid syntax'),
    (["--storage-opt", "size=1G"], 125, "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"),
    (["--storage-opt", "foo"], 125, "invalid storage option"),
    (["--volume-driver", "foo", "-v", "vx:/data"], 125, 'error looking up volume plugin foo: plugin "foo" not found'),
    (["--mac-address", "zz"], 125, "zz is not a valid mac address"),
    (["--mac-address", "02:42:ac:11:00:05", "--network", "host"], 125,
     "conflicting options: mac-address and the network mode"),
    (["--use-api-socket"], 125, "composer has no Docker API socket"),
])
def test_refused_as_docker_with_nothing_made(cli, state_root: Path, flags, code, message):
    for verb in ("run", "create"):
        result = cli("container", verb, *(["--rm"] if verb == "run" else []), *flags, "busybox", "true")
        assert result.returncode == code, (verb, result.stderr)
        assert message in result.stderr
    assert not list((state_root / "containers").glob("*"))
    assert not list((state_root / "volumes").glob("vx*"))


def test_recorded_and_applied(cli, state_root: Path):
    """rt budget written to the cgroup (v1), the MAC on eth0, inspect shows every value given."""
    realtime = detect_setup() != "unified" and supports_realtime()
    rt = ["--cpu-rt-period", "1000000", "--cpu-rt-runtime", "5000"] if realtime else []
    created = cli("container", "create", "--name", "hf", *rt, "--kernel-memory", "10m", "--volume-driver", "local",
                  "--mac-address", "02:42:AC:11:00:07", "--disable-content-trust", "busybox",
                  "cat", "/sys/class/net/eth0/address")
    assert created.returncode == 0, created.stderr
    assert "WARNING: Specifying a kernel memory limit is deprecated and will be removed in a future release.\n" \
        in created.stderr
    container_id = created.stdout.strip()
    host = json.loads(cli("container", "inspect", "hf", check=True).stdout)[0]["HostConfig"]
    assert (host["KernelMemory"], host["VolumeDriver"]) == (10 << 20, "local")
    if realtime:
        assert (host["CpuRealtimePeriod"], host["CpuRealtimeRuntime"]) == (1000000, 5000)
        cli("container", "start", "hf", check=True)
        assert cli("container", "wait", "hf", check=True).stdout == "0\n"
        assert cli("container", "logs", "hf", check=True).stdout == "02:42:ac:11:00:07\n"
        running = cli("container", "run", "-d", *rt, "busybox", "sleep", "30", check=True).stdout.strip()
        cgroup = Path(f"/sys/fs/cgroup/cpu/composer/{running}")
        assert ((cgroup / "cpu.rt_period_us").read_text(), (cgroup / "cpu.rt_runtime_us").read_text()) == \
            ("1000000\n", "5000\n")
    networks = json.loads(cli("container", "inspect", "-f", "{{json .NetworkSettings.Networks}}", "hf").stdout)
    assert container_id and networks["bridge"]["MacAddress"] in ("", "02:42:ac:11:00:07")


def test_volume_driver_without_volumes_is_recorded(cli):
    """docker takes any ``--volume-driver`` when no volume needs it (and records it)."""
    cli("container", "create", "--name", "vd", "--volume-driver", "foo", "busybox", "true", check=True)
    assert cli("container", "inspect", "-f", "{{.HostConfig.VolumeDriver}}", "vd").stdout == "foo\n"
