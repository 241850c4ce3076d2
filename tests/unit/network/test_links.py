"""``links`` aliases in the DNS records, and the parsing of --link and --link-local-ip."""

from __future__ import annotations

import pytest

from composer.errors import NetworkError
from composer.network.dns import records
from composer.network.model import Endpoint, Network, parse_link, parse_link_local


def _net() -> Network:
    net = Network(id="n" * 64, name="app", bridge="cm-x", subnet="10.5.0.0/24", gateway="10.5.0.1", created="now")
    for cid, name, address, links in (("a" * 64, "web", "10.5.0.2", ["db:database"]), ("b" * 64, "db", "10.5.0.3", []),
                                      ("c" * 64, "other", "10.5.0.4", [])):
        net.endpoints[cid] = Endpoint(container_id=cid, endpoint_id=cid, netns_path="/nonexistent", netns_inode=(0, 0),
                                      host_ifname="veth0", name=name, ipv4=address, links=links)
    return net


def test_a_link_alias_names_its_target_for_the_linking_container_only():
    nets = [_net()]
    assert records.linked(nets, "10.5.0.2", "database.") == "db"
    assert records.linked(nets, "10.5.0.2", "DataBase") == "db"
    assert records.linked(nets, "10.5.0.4", "database.") == "database."  # another container: not a name
    assert records.linked(nets, "10.5.0.2", "web.") == "web."
    second = Network(id="s" * 64, name="back", bridge="cm-y", subnet="10.6.0.0/24", gateway="10.6.0.1", created="now")
    second.endpoints["a" * 64] = Endpoint(container_id="a" * 64, endpoint_id="e", netns_path="/nonexistent",
                                          netns_inode=(0, 0), host_ifname="veth1", name="web", ipv4="10.6.0.2")
    assert records.linked([second, *nets], "10.6.0.2", "database") == "db"  # asked on its other network


@pytest.mark.parametrize("text, parsed", [("db", "db:db"), ("db:database", "db:database"), ("a.b-c_d:x", "a.b-c_d:x"),
                                          ("db:", "db:db")])
def test_links_parse_as_docker(text, parsed):
    assert parse_link(text) == parsed


@pytest.mark.parametrize("text", ["", ":x", "a:b:c", "db:da tab"])
def test_bad_links_are_refused(text):
    with pytest.raises(NetworkError, match="bad format for links"):
        parse_link(text)


def test_link_local_addresses_get_docker_prefixes():
    assert parse_link_local("169.254.7.7") == "169.254.7.7/16"
    assert parse_link_local("fe80::7") == "fe80::7/64"
    for bad in ("0.0.0.0", "::", "nope", "169.254.7.7/16"):
        with pytest.raises(NetworkError, match=r"Invalid link-local IP address: \["):
            parse_link_local(bad)


def test_links_on_the_default_bridge_become_hosts_lines(monkeypatch):
    from composer.network.resolvconf import link_lines, render_hosts

    monkeypatch.setattr(Endpoint, "alive", lambda self: True)
    net = _net()
    web = net.endpoints["a" * 64]
    assert link_lines(net, web) == []  # a user network: DNS answers links
    net.default = True
    lines = link_lines(net, web)
    assert lines == [f"10.5.0.3\tdatabase {'b' * 12} db"]
    assert "10.5.0.3\tdatabase bbbbbbbbbbbb db\n10.5.0.2\tweb\n" in render_hosts("web", ["10.5.0.2"], links=lines)
