"""From flags + image config to a ContainerConfig: entrypoint/cmd/env/user semantics."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from composer.cli.container_run import build_config
from composer.cli.run_flags import parse_run_args
from composer.engine.runtime.config import ContainerConfig
from composer.errors import ComposerError, ContainerRuntimeError, UsageError

IMAGE = SimpleNamespace(id="sha256:1", name="img", layer_dirs=("/l1", "/l2"), config={
    "Entrypoint": ["/entry"], "Cmd": ["default"], "Env": ["PATH=/bin", "A=image"], "WorkingDir": "/app",
    "User": "daemon", "Labels": {"from": "image"}, "StopSignal": "SIGQUIT"})


def config_for(*argv: str) -> ContainerConfig:
    options, _, command = parse_run_args(list(argv))
    return build_config(options, IMAGE, command)


def test_image_defaults():
    config = config_for("img")
    assert config.args == ["/entry", "default"] and config.cwd == "/app" and config.user == "daemon"
    assert config.env == ["PATH=/bin", "A=image"] and config.stop_signal == "SIGQUIT"
    assert config.layers == ["/l1", "/l2"] and config.hostname == config.id[:12]


def test_overrides(monkeypatch):
    monkeypatch.setenv("FROM_HOST", "h")
    config = config_for("-e", "A=cli", "-e", "FROM_HOST", "-e", "UNSET_HERE", "-w", "/w", "-u", "1:2",
                        "-l", "k=v", "img", "arg")
    assert config.args == ["/entry", "arg"] and config.cwd == "/w" and config.user == "1:2"
    assert "A=cli" in config.env and "FROM_HOST=h" in config.env and not any("UNSET_HERE" in e for e in config.env)
    assert config.labels == {"from": "image", "k": "v"}


def test_entrypoint_override_clears_cmd():
    assert config_for("--entrypoint", "sh", "img").args == ["sh"]
    assert config_for("--entrypoint", "", "img", "echo", "x").args == ["echo", "x"]
    with pytest.raises(ComposerError, match="no command"):
        config_for("--entrypoint", "", "img")


def test_resources_and_security():
    config = config_for("-m", "1g", "--memory-swap", "2g", "--cpus", "1.5", "--pids-limit", "10",
                        "--cap-add", "NET_ADMIN", "--security-opt", "no-new-privileges:true",
                        "--security-opt", "seccomp=unconfined", "--sysctl", "net.core.somaxconn=1024",
                        "--ulimit", "nofile=10:20", "img")
    assert config.resources.memory == 1 << 30 and config.resources.nano_cpus == 1_500_000_000
    assert config.security.no_new_privileges and config.security.seccomp == "unconfined"
    assert config.ulimits == [("nofile", 10, 20)]
    assert ContainerConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("argv", [["--sysctl", "kernel.panic=1"], ["-m", "2g", "--memory-swap", "1g"],
                                  ["--network", "host", "--sysctl", "net.core.somaxconn=1"],
                                  ["--security-opt", "bogus"], ["--ulimit", "nope=1"], ["--blkio-weight", "5"]])
def test_refused(argv):
    with pytest.raises((UsageError, ContainerRuntimeError)):  # the CLI's, or dockerd's (memory values)
        config_for(*argv, "img")


def test_mount_flags():
    config = config_for("-v", "/h:/c:ro", "-v", "name:/n", "-v", "/anon", "--mount",
                        "type=tmpfs,target=/t,tmpfs-size=1m", "--tmpfs", "/u:size=2m", "img")
    kinds = [(m.type, m.source, m.target, m.readonly) for m in config.mounts]
    assert kinds == [("bind", "/h", "/c", True), ("volume", "name", "/n", False), ("volume", "", "/anon", False),
                     ("tmpfs", "", "/t", False), ("tmpfs", "", "/u", False)]
    assert config.mounts[3].options == "size=1m"


def test_memory_swap_defaults_to_twice_memory():
    assert config_for("-m", "100m", "img").resources.memory_swap == 200 << 20
    assert config_for("-m", "100m", "--memory-swap", "-1", "img").resources.memory_swap == -1


def test_image_volumes_become_anonymous_volumes():
    image = SimpleNamespace(id="sha256:2", name="db", layer_dirs=("/l",), config={
        "Cmd": ["x"], "Volumes": {"/var/lib/data": {}, "/logs": {}}})
    options, _, command = parse_run_args(["-v", "named:/logs", "db"])
    config = build_config(options, image, command)
    assert [(m.type, m.source, m.target) for m in config.mounts] == [
        ("volume", "named", "/logs"), ("volume", "", "/var/lib/data")]
