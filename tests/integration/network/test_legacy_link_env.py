"""``container run --link`` on the default bridge sets docker's legacy link variables (a user
network sets none: its links resolve by DNS)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_link_variables_on_the_default_bridge_only(composer, busybox_image, manager):
    db = composer("container", "run", "-d", "--name", "envdb", "-e", "PASS=x", "-p", "5432:5432", "busybox",
                  "sleep", "30")
    assert db.returncode == 0, db.stderr
    try:
        address = manager.get("bridge").endpoints[db.stdout.strip()].ipv4
        run = composer("container", "run", "--rm", "--name", "envweb", "--link", "envdb:my-db", "-e", "MY_DB_ENV_PASS=y",
                       "busybox", "env")
        assert run.returncode == 0, run.stderr
        env = run.stdout.splitlines()
        assert f"MY_DB_PORT=tcp://{address}:5432" in env and f"MY_DB_PORT_5432_TCP_ADDR={address}" in env
        assert "MY_DB_NAME=/envweb/my-db" in env and "MY_DB_ENV_PASS=y" in env  # -e wins
        assert not [item for item in env if item.startswith("MY_DB_ENV_PATH")]
        detached = composer("container", "run", "-d", "--name", "envbg", "--link", "envdb", "busybox", "env")
        assert detached.returncode == 0, detached.stderr
        assert composer("container", "wait", "envbg").stdout.strip() == "0"
        assert "ENVDB_NAME=/envbg/envdb" in composer("container", "logs", "envbg").stdout.splitlines()
        manager.create("envnet")
        user = composer("container", "run", "--rm", "--network", "envnet", "--link", "envdb:my-db", "busybox", "env")
        assert user.returncode == 0 and "MY_DB" not in user.stdout, user.stderr
    finally:
        composer("container", "rm", "-f", "envdb", "envbg")
