"""``update``'s pure parts: docker's checks of a request, the merge with a container's limits, the
CLI's flag conversions, and the order the cgroup backends write limits in (on plain files)."""

from __future__ import annotations

import pytest

from composer.cli.container_update import build_request, parse_args
from composer.engine.runtime.cgroups import v1
from composer.engine.runtime.cgroups.v2 import CgroupV2
from composer.engine.runtime.config import ContainerConfig, Resources
from composer.engine.runtime.update import UpdateRequest, check_request, merge, parse_cpuset, parse_restart_policy
from composer.errors import ComposerError, ContainerStateError, UsageError


def _config(**resources) -> ContainerConfig:
    return ContainerConfig(id="c" * 64, name="x", image="busybox", image_id="", layers=[], args=["sh"], env=[],
                           resources=Resources(**resources))


def test_cpuset_lists_and_ranges():
    assert parse_cpuset("0-2,5") == {0, 1, 2, 5}
    for bad in ("x", "1-", "3-1", "", "1,,2"):
        with pytest.raises(ValueError):
            parse_cpuset(bad)


def test_restart_policy_is_split_as_the_docker_cli_does_and_checked_as_the_daemon_does():
    assert parse_restart_policy("on-failure:3") == {"Name": "on-failure", "MaximumRetryCount": 3}
    with pytest.raises(UsageError, match="maximum retry count must be an integer"):
        parse_restart_policy("on-failure:x")
    for text, message in (("bogus", "invalid restart policy 'bogus'"),
                          ("always:2", "cannot be used with restart policy 'always'"),
                          ("on-failure:-1", "maximum retry count cannot be negative")):
        with pytest.raises(ComposerError, match=message):
            check_request(UpdateRequest(restart_policy=parse_restart_policy(text)))


@pytest.mark.parametrize(("fields", "message"), [
    ({"memory": 1 << 20}, "Minimum memory limit allowed is 6MB"),
    ({"memory": 50 << 20, "memory_swap": 30 << 20}, "memoryswap limit should be larger than memory limit"),
    ({"memory_reservation": 1 << 20}, "Minimum memory reservation allowed is 6MB"),
    ({"memory": 10 << 20, "memory_reservation": 20 << 20}, "can not be less than memory reservation"),
    ({"nano_cpus": 10**9, "cpu_quota": 5000}, "Nano CPUs and CPU Quota cannot both be set"),
    ({"nano_cpus": 10**12}, "Range of CPUs is from 0.01 to"),
    ({"cpu_period": 999}, "CPU cfs period can not be less than 1ms"),
    ({"cpu_quota": 999}, "CPU cfs quota can not be less than 1ms"),
    ({"cpu_rt_period": 1000, "cpu_rt_runtime": 2000}, "cpu-rt-runtime cannot be higher than cpu-rt-period"),
    ({"cpuset_cpus": "0-x"}, "Invalid value 0-x for cpuset cpus: invalid format: 0-x"),
    ({"cpuset_cpus": "4096"}, "Requested CPUs are not available - requested 4096"),
])
def test_request_checks(fields, message):
    with pytest.raises(ComposerError, match=message) as caught:
        check_request(UpdateRequest(**fields))
    assert caught.value.exit_code == 1


def test_kernel_memory_warns_as_deprecated():
    request = UpdateRequest(kernel_memory=50 << 20)
    assert check_request(request)[0].startswith("Specifying a kernel memory limit is deprecated")


def test_merge_keeps_what_the_request_leaves_and_normalises_unlimited_pids():
    resources, policy = merge(_config(memory=64 << 20, memory_swap=128 << 20, pids_limit=5),
                              UpdateRequest(cpu_shares=512, pids_limit=-1, restart_policy={"Name": "always"}))
    assert (resources.memory, resources.memory_swap, resources.cpu_shares, resources.pids_limit) == (
        64 << 20, 128 << 20, 512, 0)
    assert policy == {"Name": "always"}
    assert UpdateRequest(cpu_shares=512, pids_limit=-1).changed() == {"cpu_shares", "pids_limit"}


@pytest.mark.parametrize(("existing", "fields", "message"), [
    ({"nano_cpus": 10**9}, {"cpu_quota": 5000}, "CPU Quota cannot be updated as NanoCPUs has already been set"),
    ({"cpu_period": 5000}, {"nano_cpus": 10**9}, "Nano CPUs cannot be updated as CPU Period has already been set"),
    ({"memory": 64 << 20, "memory_swap": 128 << 20}, {"memory": 256 << 20}, "smaller than already set memoryswap"),
    ({"memory": 64 << 20, "memory_swap": 128 << 20}, {"memory_swap": 32 << 20}, "memoryswap limit should be larger"),
    ({}, {"memory_swap": 32 << 20}, "You should always set the Memory limit when using Memoryswap limit"),
])
def test_merge_conflicts_with_what_the_container_has(existing, fields, message):
    with pytest.raises(ContainerStateError, match=message):
        merge(_config(**existing), UpdateRequest(**fields))


def test_no_restart_policy_for_an_auto_removed_container():
    config = _config()
    config.auto_remove = True
    with pytest.raises(ContainerStateError, match="AutoRemove is enabled"):
        merge(config, UpdateRequest(restart_policy={"Name": "always", "MaximumRetryCount": 0}))
    assert merge(config, UpdateRequest(restart_policy={"Name": "no", "MaximumRetryCount": 0}))[1]["Name"] == "no"


def test_cli_flags_anywhere_and_dockers_conversions():
    options, containers = parse_args(["a", "-m", "64m", "--cpus=1.5", "b", "--pids-limit", "-1", "--", "-c"])
    assert containers == ["a", "b", "-c"]
    request = build_request(options)
    assert (request.memory, request.nano_cpus, request.pids_limit) == (64 << 20, 1_500_000_000, -1)
    assert build_request({"pids_limit": "0"}).pids_limit is None
    for options, message in (({"cpus": "x"}, "failed to parse x as a rational number"),
                             ({"cpus": "0.0000000001"}, "value is too precise"),
                             ({"cpu_shares": "x"}, 'strconv.ParseInt: parsing "x"'),
                             ({"memory": "20x"}, 'invalid argument "20x" for "-m, --memory" flag')):
        with pytest.raises(UsageError, match=message) as caught:
            build_request(options)
        assert caught.value.exit_code == 125


def test_v1_writes_memory_and_swap_in_an_order_the_kernel_takes(tmp_path, monkeypatch):
    memory = tmp_path / "memory" / "composer" / "c"
    memory.mkdir(parents=True)
    (memory / "memory.limit_in_bytes").write_text(str(100 << 20))
    (memory / "memory.memsw.limit_in_bytes").write_text(str(100 << 20))
    written = []
    monkeypatch.setattr(v1, "write_file", lambda path, value: written.append((path.rsplit("/", 1)[1], value)))
    cgroup = v1.CgroupV1(str(tmp_path), "composer/c")
    cgroup.update(Resources(memory=300 << 20, memory_swap=400 << 20), frozenset({"memory", "memory_swap"}))
    assert written == [("memory.memsw.limit_in_bytes", str(400 << 20)), ("memory.limit_in_bytes", str(300 << 20))]
    written.clear()
    cgroup.update(Resources(memory=50 << 20, memory_swap=60 << 20), frozenset({"memory", "memory_swap"}))
    assert written == [("memory.limit_in_bytes", str(50 << 20)), ("memory.memsw.limit_in_bytes", str(60 << 20))]
    written.clear()
    cgroup.update(Resources(pids_limit=0, memory_reservation=0), frozenset({"pids_limit", "memory_reservation"}))
    assert written == [("memory.soft_limit_in_bytes", "-1"), ("pids.max", "max")]


def test_v2_update_writes_only_what_changed(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "memory.swap.max").write_text("max")
    cgroup = CgroupV2(str(tmp_path), "c")
    resources = Resources(memory=64 << 20, memory_swap=96 << 20, cpu_period=50000, cpu_quota=20000, pids_limit=0)
    cgroup.update(resources, frozenset({"memory_swap", "cpu_quota", "pids_limit"}))
    files = {path.name: path.read_text() for path in (tmp_path / "c").iterdir()}
    assert files == {"memory.swap.max": str(32 << 20), "cpu.max": "20000 50000", "pids.max": "max"}


def test_a_container_removed_meanwhile_is_not_found(tmp_path, monkeypatch):
    from composer.engine.runtime import state
    from composer.engine.runtime.update import update
    from composer.errors import ContainerNotFound

    monkeypatch.setattr(state, "find_container", lambda reference: state.ContainerDir("f" * 64, str(tmp_path)))
    with pytest.raises(ContainerNotFound, match="No such container: gone"):
        update("gone", UpdateRequest(cpu_shares=512))


def test_the_supervisors_catch_up_writes_only_what_differs(tmp_path):
    from composer.engine.runtime.update import apply_changes

    (tmp_path / "c").mkdir()
    old = Resources(memory=64 << 20, pids_limit=5)
    apply_changes(CgroupV2(str(tmp_path), "c"), old, Resources(memory=64 << 20, pids_limit=9, cpu_shares=512))
    assert {path.name: path.read_text() for path in (tmp_path / "c").iterdir()} == {
        "pids.max": "9", "cpu.weight": "20"}
    apply_changes(CgroupV2(str(tmp_path / "missing"), "c"), old, Resources())  # best effort: no raise


def test_cli_help_and_usage_errors(capsys):
    from composer.cli.container_update import run

    assert run(["--help"]) == 0 and capsys.readouterr().out.startswith("Usage:  composer update [OPTIONS] CONTAINER")
    with pytest.raises(UsageError, match="requires at least 1 argument") as caught:
        run(["-m", "64m"])
    assert caught.value.exit_code == 1
    with pytest.raises(UsageError, match="you must provide one or more flags when using this command"):
        run(["c"])
    with pytest.raises(UsageError, match="unknown flag: --bogus") as caught:
        run(["--bogus", "c"])
    assert caught.value.exit_code == 125


def test_update_is_listed_in_help_and_runs_after_global_options():
    from typer.testing import CliRunner

    from composer.cli.app import build_app

    app = build_app(["composer.cli.container_update"])
    assert "update" in CliRunner().invoke(app, ["--help"]).stdout
    result = CliRunner().invoke(app, ["-p", "x", "update", "--help"])
    assert result.exit_code == 0 and result.stdout.startswith("Usage:  composer update")
