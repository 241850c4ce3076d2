"""The typer-free parser of docker run's flags."""

from __future__ import annotations

import pytest

from composer.cli.run_flags import parse_bytes, parse_run_args
from composer.errors import UsageError


def test_flags_image_and_command():
    options, image, command = parse_run_args(
        ["--rm", "-it", "-e", "A=1", "-eB=2", "--env=C=3", "--name=x", "-v", "/a:/b", "-p8080:80",
         "busybox", "sh", "-c", "echo --rm"])
    assert options["rm"] and options["interactive"] and options["tty"]
    assert options["env"] == ["A=1", "B=2", "C=3"]
    assert options["name"] == "x" and options["volume"] == ["/a:/b"] and options["publish"] == ["8080:80"]
    assert (image, command) == ("busybox", ["sh", "-c", "echo --rm"])


def test_double_dash_and_bool_values():
    options, image, command = parse_run_args(["--read-only=false", "--", "img", "-x"])
    assert options["read_only"] is False and image == "img" and command == ["-x"]


@pytest.mark.parametrize("argv", [[], ["--rm"], ["--bogus", "img"], ["-Z", "img"], ["--name"]])
def test_usage_errors(argv):
    with pytest.raises(UsageError):
        parse_run_args(argv)


@pytest.mark.parametrize("text,expected", [("1024", 1024), ("512m", 512 << 20), ("1g", 1 << 30), ("1.5k", 1536),
                                           ("64MB", 64 << 20), ("-1", -1), ("10b", 10)])
def test_parse_bytes(text, expected):
    assert parse_bytes(text, "--memory") == expected


def test_parse_bytes_error_names_flag():
    with pytest.raises(UsageError, match="--memory"):
        parse_bytes("lots", "--memory")


@pytest.mark.parametrize("flag", ["-d", "--detach", "--detach-keys=x", "--sig-proxy=false"])
def test_create_has_no_attachment_flags(flag):
    """docker's create: ``unknown shorthand flag: 'd' in -d`` / ``unknown flag: --sig-proxy``."""
    assert parse_run_args([flag, "img"])[1] == "img"
    with pytest.raises(UsageError, match="unknown") as refused:
        parse_run_args([flag, "img"], "create")
    assert refused.value.hint == "See 'composer container create --help'."


def test_every_flag_of_docker_28_run_is_known():
    """``docker run --help`` (docker CLI 28.2): each long flag parses (its effect: run_host_flags, run_config)."""
    from composer.cli.run_flags import FLAGS

    docker_run = """add-host annotation attach blkio-weight blkio-weight-device cap-add cap-drop cgroup-parent
        cgroupns cidfile cpu-count cpu-percent cpu-period cpu-quota cpu-rt-period cpu-rt-runtime cpu-shares cpus
        cpuset-cpus cpuset-mems detach detach-keys device device-cgroup-rule device-read-bps device-read-iops
        device-write-bps device-write-iops disable-content-trust dns dns-option dns-search domainname entrypoint
        env env-file expose gpus group-add health-cmd health-interval health-retries health-start-interval
        health-start-period health-timeout help hostname init interactive io-maxbandwidth io-maxiops ip ip6 ipc
        isolation kernel-memory label label-file link link-local-ip log-driver log-opt mac-address memory
        memory-reservation memory-swap memory-swappiness mount name network network-alias no-healthcheck
        oom-kill-disable oom-score-adj pid pids-limit platform privileged publish publish-all pull quiet read-only
        restart rm runtime security-opt shm-size sig-proxy stop-signal stop-timeout storage-opt sysctl tmpfs tty
        ulimit use-api-socket user userns uts volume volume-driver volumes-from workdir"""
    assert [flag for flag in docker_run.split() if f"--{flag}" not in FLAGS] == []


def test_run_config_knows_the_host_flags_run_host_flags_checks():
    """run_config imports run_host_flags only when one of its flags is given: the two lists agree."""
    from composer.cli import run_config, run_host_flags

    assert run_config.WINDOWS_ONLY_FLAGS == set(run_host_flags.WINDOWS_ONLY)
    assert run_config.WINDOWS_ONLY_FLAGS < run_config.HOST_FLAGS
