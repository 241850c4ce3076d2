"""docker's ``--platform`` of ``container run``/``create`` and ``network create --ipv4`` (docker 28's
flags) as docker does them on this host: an image of another platform is not found (pulled for the
named one; ``--pull never``: dockerd's refusal), a bad specifier is refused in containerd's words;
``--ipv4=false`` (an IPv6-only network) is refused in clear words, nothing made."""

from __future__ import annotations

import json

from composer.engine.images.archive import host_architecture

OTHER = "linux/arm64" if host_architecture() != "arm64" else "linux/amd64"
MISMATCH = f"image with reference busybox was found but does not match the specified platform: wanted {OTHER}"


def test_run_and_create_with_a_platform(cli):
    here = f"linux/{host_architecture()}"
    for platform in (here, host_architecture()):
        ran = cli("container", "run", "--rm", "--network", "none", "--platform", platform, "busybox", "echo", "ok")
        assert (ran.returncode, ran.stdout) == (0, "ok\n"), ran.stderr
    for verb, code in (("run", 125), ("create", 1)):  # docker run's 125, docker create's 1
        refused = cli("container", verb, "--pull", "never", "--platform", OTHER, "busybox", "true")
        assert refused.returncode == code and MISMATCH in refused.stderr, refused.stderr
        bogus = cli("container", verb, "--platform", "bogus", "busybox", "true")
        assert bogus.returncode == code and ('error parsing specified platform: "bogus": unknown operating system '
                                             "or architecture: invalid argument") in bogus.stderr, bogus.stderr
    assert cli("container", "create", "--pull", "never", "nope").returncode == 1  # docker create: 1
    assert cli("container", "ls", "-aq").stdout == ""  # nothing created
    cli("image", "tag", "busybox", "127.0.0.1:1/busybox:1", check=True)  # (a registry that is not there)
    pulled = cli("container", "run", "--rm", "--platform", OTHER, "127.0.0.1:1/busybox:1", "true")
    assert pulled.returncode == 125 and "Unable to find image '127.0.0.1:1/busybox:1' locally" in pulled.stderr
    created = cli("container", "create", "--platform", here, "busybox", "true", check=True).stdout.strip()
    assert json.loads(cli("container", "inspect", created, check=True).stdout)[0]["State"]["Status"] == "created"


def test_network_create_ipv4(cli):
    try:
        assert cli("network", "create", "--ipv4", "v4a").returncode == 0
        assert cli("network", "create", "--ipv4=true", "v4b").returncode == 0
        refused = cli("network", "create", "--ipv4=false", "v6only")
        assert refused.returncode == 1 and 'network "v6only": --ipv4=false asks for an IPv6-only network' \
            in refused.stderr, refused.stderr
        bad = cli("network", "create", "--ipv4=maybe", "v4c")
        assert bad.returncode == 125 and 'invalid argument "maybe" for "--ipv4" flag' in bad.stderr
        assert "v6only" not in cli("network", "ls", "--format", "{{.Name}}").stdout
    finally:
        cli("network", "rm", "v4a", "v4b")
