"""docker CLI 28 shapes measured side by side with dockerd 20.10 (session 8, docs/parity.md): ps's
PORTS, the JSON of a listing's row, ps's filter values, the key order of container inspect."""

from __future__ import annotations

import pytest

from composer.cli import psformat
from composer.cli.gotemplate import render
from composer.engine.runtime.describe import ContainerInfo, host_config, inspect_dict, network_settings
from composer.errors import FilterError


def test_ports_as_docker_displays_them():
    assert psformat.ports_text(["127.0.0.1:18080:80"], ["90/tcp"]) == "90/tcp, 127.0.0.1:18080->80/tcp"
    assert psformat.ports_text(["8080:8080", "8081:8081"], ["8080/tcp", "8081/tcp", "53/udp"]) == \
        "53/udp, 0.0.0.0:8080-8081->8080-8081/tcp"
    assert psformat.ports_text([], ["90/tcp", "91/tcp", "93/tcp", "7000-7001/udp"]) == \
        "90-91/tcp, 93/tcp, 7000-7001/udp"
    assert psformat.ports_text(["[::1]:9000:90"], []) == "[::1]:9000->90/tcp"
    assert psformat.ports_text(["[::]:80:80"], []) == ":::80->80/tcp"  # docker's formGroup: no brackets
    assert psformat.ports_text(["80"], []) == "80/tcp"  # a host port picked at start is not recorded


def test_a_listing_row_is_json_as_go_marshals_it():
    row = psformat.render([{"Ports": "0.0.0.0:80->80/tcp", "Label": lambda key: ""}], "json")
    assert row == ['{"Ports":"0.0.0.0:80-\\u003e80/tcp"}']
    assert psformat.render([{"Ports": "a->b"}], "{{json .Ports}}") == ['"a->b"']  # the template function: kept
    assert render("{{json .}}", {"A": "<&>"}) == '{"A":"<&>"}'


def test_size_asked_for_as_docker_asks_for_it():
    assert psformat.WHOLE_ROW_JSON.search("{{json .}}") and psformat.WHOLE_ROW_JSON.search("table {{ json . }}")
    assert not psformat.WHOLE_ROW_JSON.search("json") and not psformat.WHOLE_ROW_JSON.search("{{json .Ports}}")


@pytest.mark.parametrize("item, words", [
    ("foo=1", "Invalid filter 'foo'"),
    ("status=nope", "Invalid filter 'status=nope'"),
    ("health=foo", "Unrecognised filter value for health: foo"),
    ("exited=abc", 'strconv.Atoi: parsing "abc": invalid syntax'),
    ("publish=1:2", "filter for 'publish' should not contain ':': 1:2"),
    ("publish=abc", 'error while looking up for publish abc: strconv.ParseUint: parsing "abc": invalid syntax'),
    ("expose=70000", 'error while looking up for expose 70000: strconv.ParseUint: parsing "70000": '
                     "value out of range"),
])
def test_ps_filter_values_refused_in_dockerd_words(item, words):
    with pytest.raises(FilterError) as refused:
        psformat.check_ps_values(psformat.parse_filters([item]))
    assert refused.value.message == words


def _info(**fields) -> ContainerInfo:
    values = {"id": "abc123" * 10, "name": "web", "image": "busybox", "image_id": "sha256:1", "labels": {},
              "created": 1.0, "state": "running"}
    return ContainerInfo(**{**values, **fields})


def test_ps_filters_as_dockerd_applies_them():
    web = _info(labels={"a": "1", "b": "2"}, ports=["127.0.0.1:18080:80"], exposed=["90/tcp"],
                networks=["dnet"], mounts=["vol1"], targets=["/data"])
    stopped = _info(state="exited", ports=web.ports, exposed=web.exposed, networks=["none"])

    def passes(info, *items, **kwargs):
        return psformat.matches(info, psformat.check_ps_values(psformat.parse_filters(list(items))), **kwargs)

    assert passes(web, "publish=18080") and passes(web, "publish=18000-18100/tcp") and not passes(web, "publish=80")
    assert passes(web, "expose=90") and passes(web, "expose=80") and not passes(web, "expose=80/udp")
    assert not passes(stopped, "publish=18080") and not passes(stopped, "expose=90")  # a running one's ports only
    assert passes(web, "volume=/data") and passes(web, "volume=vol1") and not passes(web, "volume=vol")
    assert passes(stopped, "network=none") and passes(web, "network=c70", network_ids={"dnet": "c70abc"})
    assert not passes(web, "network=dne", network_ids={"dnet": "c70abc"})
    assert not passes(web, "id=") and passes(web, "id=abc1")
    assert passes(web, "label=a", "label=b=2") and not passes(web, "label=a", "label=c")  # every label
    assert passes(stopped, "status=exited", "status=running")  # one key's other values: any


CONFIG = {"id": "f" * 64, "name": "c", "image": "busybox", "image_id": "sha256:1", "args": ["sh"], "env": [],
          "cwd": "/", "user": "", "hostname": "c", "network": "none", "mounts": [], "tty": False, "stdin": False,
          "stop_signal": "SIGTERM", "labels": {}, "auto_remove": False, "exposed": ["90/tcp"],
          "publish": ["8080:80"],
          "resources": {"memory": 0, "nano_cpus": 0, "pids_limit": 0},
          "security": {"privileged": False, "read_only": False}}


def test_inspect_keys_in_dockerd_20_10_order(state_root):
    keys = list(host_config(CONFIG))
    assert keys[keys.index("Runtime"):keys.index("Runtime") + 9] == [
        "Runtime", "ConsoleSize", "Isolation", "CpuShares", "Memory", "NanoCpus", "CgroupParent", "BlkioWeight",
        "BlkioWeightDevice"]
    assert keys[keys.index("BlkioDeviceWriteIOps") + 1:keys.index("BlkioDeviceWriteIOps") + 6] == [
        "CpuPeriod", "CpuQuota", "CpuRealtimePeriod", "CpuRealtimeRuntime", "CpusetCpus"]
    assert keys[-6:] == ["CpuCount", "CpuPercent", "IOMaximumIOps", "IOMaximumBandwidth", "MaskedPaths",
                         "ReadonlyPaths"]
    assert host_config(CONFIG)["BlkioDeviceReadBps"] == []  # the docker CLI sends empty lists
    shown = inspect_dict(CONFIG, {"Status": "created"})
    assert "NetworkDisabled" not in shown["Config"] and shown["Config"]["WorkingDir"] == ""
    assert shown["ResolvConfPath"] == shown["HostsPath"] == ""  # written by a start
    settings = network_settings(CONFIG, {"Status": "exited", "StartedAt": "2026-01-01T00:00:00Z"}, [])
    assert list(settings)[9:] == ["EndpointID", "Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen",
                                  "IPAddress", "IPPrefixLen", "IPv6Gateway", "MacAddress", "Networks"]
    none = settings["Networks"]["none"]
    assert list(none)[:4] == ["IPAMConfig", "Links", "Aliases", "NetworkID"] and list(none)[11:13] == [
        "MacAddress", "DriverOpts"] and none["Aliases"] is None


def test_inspect_of_a_created_container_as_dockerd_records_it(state_root):
    from composer.engine.runtime.config import docker_env

    config = {**CONFIG, "init": True, "attached": True, "stdin": True, "entrypoint": ["/bin/sh"],
              "args": ["/sbin/docker-init", "--", "/bin/sh", "-c", "sleep 1"], "ulimits": [["nofile", 100, 200]],
              "security": {**CONFIG["security"], "cap_add": ["net_admin"], "cap_drop": ["ALL"],
                           "sysctls": {"net.ipv4.ip_forward": "1"}},
              "mounts": [{"type": "bind", "source": "/srv", "target": "/mnt", "readonly": True},
                         {"type": "bind", "source": "/src", "target": "/x", "readonly": False, "create_source": True},
                         {"type": "tmpfs", "target": "/run", "options": "size=1m"},
                         {"type": "bind", "source": "/usr/bin/tini-static", "target": "/sbin/docker-init",
                          "readonly": True}]}
    shown = inspect_dict(config, {"Status": "created"})
    assert (shown["Path"], shown["Args"]) == ("/bin/sh", ["-c", "sleep 1"])
    assert (shown["Config"]["Entrypoint"], shown["Config"]["Cmd"]) == (["/bin/sh"], ["-c", "sleep 1"])
    assert shown["Config"]["AttachStdin"] and shown["Config"]["StdinOnce"] and shown["Config"]["AttachStdout"]
    assert shown["Config"]["Image"] == "busybox"
    host = shown["HostConfig"]
    assert host["Binds"] == ["/src:/x"] and host["Mounts"] == [
        {"Type": "bind", "Source": "/srv", "Target": "/mnt", "ReadOnly": True}]
    assert host["Tmpfs"] == {"/run": "size=1m"} and host["Sysctls"] == {"net.ipv4.ip_forward": "1"}
    assert (host["CapAdd"], host["CapDrop"]) == (["CAP_NET_ADMIN"], ["ALL"])
    assert host["Ulimits"] == [{"Name": "nofile", "Hard": 200, "Soft": 100}] and list(host["Ulimits"][0])[1] == "Hard"
    keys = list(host)
    assert keys.index("SecurityOpt") + 1 == keys.index("Tmpfs") and keys.index("ShmSize") + 1 == keys.index("Sysctls")
    assert keys[keys.index("IOMaximumBandwidth") + 1] == "Mounts"
    assert [(m["Destination"], m["Mode"]) for m in shown["Mounts"]] == [("/mnt", ""), ("/x", "")]  # no --tmpfs, init
    assert docker_env(["PATH=/bin", "A=0"], ["A=1", "B=2"]) == ["A=1", "B=2", "PATH=/bin"]


def test_a_restarting_container_counts_as_running():
    state = inspect_dict(CONFIG, {"Status": "restarting", "ExitCode": 2})["State"]
    assert (state["Running"], state["Restarting"], state["ExitCode"]) == (True, True, 2)


def test_go_maps_in_inspect_are_sorted():
    config = {**CONFIG, "labels": {"tier": "back", "other": "x"}, "publish": ["81:81/udp", "80:80"],
              "log_options": {"max-size": "1m", "max-file": "2"}}
    shown = inspect_dict(config, {"Status": "created"})
    assert list(shown["Config"]["Labels"]) == ["other", "tier"]
    assert list(shown["HostConfig"]["PortBindings"]) == ["80/tcp", "81/udp"]
    assert list(shown["HostConfig"]["LogConfig"]["Config"]) == ["max-file", "max-size"]


def test_an_anonymous_volume_as_docker_shows_it(state_root):
    config = {**CONFIG, "mounts": [{"type": "volume", "source": "a" * 64, "target": "/anon", "readonly": False,
                                    "anonymous": True},
                                   {"type": "volume", "source": "named", "target": "/n", "readonly": True}]}
    shown = inspect_dict(config, {"Status": "created"})
    assert shown["Config"]["Volumes"] == {"/anon": {}}
    assert [m["Mode"] for m in shown["Mounts"]] == ["", "ro"]


def test_networks_of_a_row_sorted_as_docker():
    assert psformat.row(_info(networks=["pnet", "anet"]))["Networks"] == "anet,pnet"
