"""``--cpu-rt-period``/``--cpu-rt-runtime``: the budget composer gives the parents it owns (the
kernel admits a group's runtime only when its parent's share covers its children's), on plain
files; docker's refusal where the kernel has no real-time group scheduling (cgroup v2)."""

from __future__ import annotations

import pytest

from composer.engine.runtime.cgroups import realtime, supports_realtime
from composer.engine.runtime.update import UpdateRequest, check_request
from composer.errors import ComposerError


def _group(path, period: int = 1_000_000, runtime: int = 0):
    path.mkdir(parents=True, exist_ok=True)
    (path / realtime.PERIOD).write_text(f"{period}\n")
    (path / realtime.RUNTIME).write_text(f"{runtime}\n")
    return path


def _runtime(path) -> int:
    return int((path / realtime.RUNTIME).read_text())


def test_the_parent_gets_what_its_children_need_and_the_child_its_values(tmp_path):
    root = _group(tmp_path, runtime=950_000)
    parent = _group(tmp_path / "composer")
    _group(parent / "other", period=100_000, runtime=20_000)  # 20 %
    child = _group(parent / "c1")
    realtime.apply(str(child), str(root), 100_000, 10_000)  # 10 %
    assert ((child / realtime.PERIOD).read_text(), _runtime(child)) == ("100000", 10_000)
    assert _runtime(parent) >= 300_000
    assert (_runtime(parent) << realtime.SHIFT) // 1_000_000 >= 2 * ((10_000 << realtime.SHIFT) // 100_000)
    assert _runtime(root) == 950_000  # the root's budget is the kernel's own


def test_a_parent_with_room_or_without_limit_is_left_alone(tmp_path):
    parent = _group(tmp_path / "composer", runtime=500_000)
    child = _group(parent / "c1")
    realtime.apply(str(child), str(tmp_path), 0, 100_000)
    assert _runtime(parent) == 500_000 and _runtime(child) == 100_000
    (parent / realtime.RUNTIME).write_text("-1")
    realtime.make_room(str(child), str(tmp_path), 1000, 1000)
    assert (parent / realtime.RUNTIME).read_text() == "-1"


def test_nested_parents_are_raised_top_down(tmp_path):
    top = _group(tmp_path / "a")
    middle = _group(top / "b")
    child = _group(middle / "c")
    realtime.make_room(str(child), str(tmp_path), 1_000_000, 250_000)
    assert _runtime(middle) == 250_000 and _runtime(top) == 250_000


def test_unsupported_kernels_are_refused_as_docker(tmp_path, monkeypatch):
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    assert not supports_realtime(str(tmp_path))  # cgroup v2: no real-time controller
    import composer.engine.runtime.cgroups as cgroups

    monkeypatch.setattr(cgroups, "supports_realtime", lambda *args: False)
    with pytest.raises(ComposerError, match="kernel does not support CPU real-time scheduler") as caught:
        check_request(UpdateRequest(cpu_rt_runtime=1000))
    assert caught.value.exit_code == 1


def test_a_removed_group_gives_its_budget_back_down_to_what_the_others_need(tmp_path):
    top = _group(tmp_path / "composer")
    stays = _group(top / "stays")
    goes = _group(top / "goes")
    realtime.apply(str(stays), str(tmp_path), 1_000_000, 100_000)
    realtime.apply(str(goes), str(tmp_path), 1_000_000, 300_000)
    assert abs(_runtime(top) - 400_000) <= 1  # (the kernel's fixed-point shares round)
    for name in (realtime.PERIOD, realtime.RUNTIME):
        (goes / name).unlink()
    goes.rmdir()
    realtime.give_back(str(goes), str(tmp_path))
    assert abs(_runtime(top) - 100_000) <= 1 and _runtime(stays) == 100_000  # never below what stays needs
    assert (_runtime(top) << realtime.SHIFT) // 1_000_000 >= (100_000 << realtime.SHIFT) // 1_000_000
    for name in (realtime.PERIOD, realtime.RUNTIME):
        (stays / name).unlink()
    stays.rmdir()
    realtime.give_back(str(stays), str(tmp_path))
    assert _runtime(top) == 0


def test_giving_back_leaves_unlimited_and_foreign_groups_alone(tmp_path):
    root = _group(tmp_path, runtime=950_000)
    top = _group(tmp_path / "composer", runtime=-1)
    realtime.give_back(str(top / "gone"), str(tmp_path))
    assert _runtime(top) == -1 and _runtime(root) == 950_000
    nested = _group(tmp_path / "a", runtime=500_000)
    middle = _group(nested / "b", runtime=500_000)
    realtime.give_back(str(middle / "gone"), str(tmp_path))
    assert _runtime(middle) == 0 and _runtime(nested) == 0 and _runtime(root) == 950_000  # bottom-up
