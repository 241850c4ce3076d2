"""A plain ``rm`` of a created container and a ``start`` of it at the same time: one of them wins,
as with docker. Either the start runs the container and the rm is refused ("container is
running"), or the rm removes it and the start finds no container; never a running container
whose files were deleted, nor a half-deleted directory."""

from __future__ import annotations

import threading
import time

import pytest

from tests.integration.runtime.conftest import cli

pytestmark = pytest.mark.root


def _race(container_id: str, rm_later: float) -> tuple[BaseException | None, BaseException | None]:
    """``start`` and, ``rm_later`` seconds after it, ``remove`` of ``container_id``; what each raised."""
    from composer.engine.runtime import containers

    outcomes: dict[str, BaseException | None] = {}
    gate = threading.Barrier(2)

    def attempt(name: str, verb) -> None:
        gate.wait()
        time.sleep(rm_later if name == "rm" else 0)
        try:
            verb(container_id)
            outcomes[name] = None
        except BaseException as error:  # noqa: BLE001 - recorded for the assertions
            outcomes[name] = error

    threads = [threading.Thread(target=attempt, args=("start", containers.start)),
               threading.Thread(target=attempt, args=("rm", containers.remove))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes["start"], outcomes["rm"]


def test_rm_and_start_of_a_created_container_are_exclusive(image, state_root):
    from composer.engine.runtime import containers
    from composer.errors import ContainerRuntimeError, ContainerStateError

    winners = set()
    for round_ in range(12):
        created = cli(state_root, "container", "create", "--network", "none", "--name", f"raced{round_}",
                      "busybox", "sleep", "60")
        assert created.returncode == 0, created.stderr
        container_id = created.stdout.strip()
        started, removed = _race(container_id, rm_later=round_ * 0.01)  # before, during, after the start
        directory = state_root / "containers" / container_id
        if removed is None:  # the rm won: the start found no container, nothing is left
            assert isinstance(started, ContainerRuntimeError) and "No such container" in started.message, started
            assert started.exit_code == 1
            assert not directory.exists()
            winners.add("rm")
        else:  # the start won: the rm was refused, the container runs with all its files
            assert started is None and isinstance(removed, ContainerStateError), (started, removed)
            assert "container is running" in removed.message
            assert containers.inspect(container_id)["State"]["Status"] == "running"
            assert (directory / "config.json").exists()
            containers.remove(container_id, force=True)
            winners.add("start")
    assert winners == {"rm", "start"}
    assert not list((state_root / "containers").iterdir())
    assert not list((state_root / "removing").iterdir())
