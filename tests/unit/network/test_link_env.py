"""docker's legacy link variables (``--link`` on the default bridge), as a private dockerd 20.10
printed them for the same containers."""

from composer.network.links import link_environment


def test_ports_runs_name_and_env_as_dockerd():
    ports = ["7000/tcp", "7001/tcp", "7002/tcp", "7002/udp"]
    env = link_environment("happy_turing", "r", "10.213.0.3", ports, ["A=1", "PATH=/bin", "HOME=/h", "E=a=b"])
    address = "10.213.0.3"
    assert env == [
        f"R_PORT=tcp://{address}:7000", f"R_PORT_7000_TCP_START=tcp://{address}:7000",
        f"R_PORT_7000_TCP_ADDR={address}", "R_PORT_7000_TCP_PROTO=tcp", "R_PORT_7000_TCP_PORT_START=7000",
        f"R_PORT_7000_UDP_END=udp://{address}:7002", "R_PORT_7000_UDP_PORT_END=7002",
        f"R_PORT_7000_TCP=tcp://{address}:7000", "R_PORT_7000_TCP_PORT=7000",
        f"R_PORT_7001_TCP=tcp://{address}:7001", f"R_PORT_7001_TCP_ADDR={address}", "R_PORT_7001_TCP_PORT=7001",
        "R_PORT_7001_TCP_PROTO=tcp",
        f"R_PORT_7002_TCP=tcp://{address}:7002", f"R_PORT_7002_TCP_ADDR={address}", "R_PORT_7002_TCP_PORT=7002",
        "R_PORT_7002_TCP_PROTO=tcp",
        f"R_PORT_7002_UDP=udp://{address}:7002", f"R_PORT_7002_UDP_ADDR={address}", "R_PORT_7002_UDP_PORT=7002",
        "R_PORT_7002_UDP_PROTO=udp",
        "R_NAME=/happy_turing/r", "R_ENV_A=1", "R_ENV_E=a=b"]


def test_two_ports_in_a_row_have_no_range_and_the_lowest_port_is_the_default():
    env = link_environment("p", "two-x", "10.0.0.5", ["8001/tcp", "8000", "53/udp"], [])
    assert env[0] == "TWO_X_PORT=udp://10.0.0.5:53"
    assert not [item for item in env if "_START=" in item or "_END=" in item]
    assert "TWO_X_PORT_8001_TCP_PORT=8001" in env and env[-1] == "TWO_X_NAME=/p/two-x"
    assert link_environment("p", "zero", "10.0.0.6", [], ["NOVALUE"]) == ["ZERO_NAME=/p/zero"]
