"""Cache keys (parent + expanded instruction + used args + content) and the on-disk index."""

import os
from pathlib import Path

import pytest

from composer.engine.build.cache import CacheIndex, chain_keys, step_key
from composer.engine.build.context import BuildContext
from composer.engine.build.dockerfile import parse
from composer.engine.build.expand import BuildArgs, StageArgs
from composer.engine.build.instructions import StageState, step_text
from composer.errors import BuildError


def test_key_parts() -> None:
    base = step_key("sha256:p", "RUN /bin/sh -c make")
    assert base.startswith("sha256:") and len(base) == 71
    assert step_key("sha256:p", "RUN /bin/sh -c make") == base
    assert step_key("sha256:q", "RUN /bin/sh -c make") != base
    assert step_key("sha256:p", "RUN /bin/sh -c make install") != base
    assert step_key("sha256:p", "RUN /bin/sh -c make", args={"A": "1"}) != base
    one, two = (step_key("sha256:p", "COPY /app", content=f"sha256:{n}") for n in (1, 2))
    assert one != two
    assert step_key("p", "x", args={"A": "1", "B": "2"}) == step_key("p", "x", args={"B": "2", "A": "1"})


def test_chain_changes_propagate() -> None:
    steps = [("COPY /a", {}, "sha256:1"), ("RUN /bin/sh -c make", {}, None)]
    first = chain_keys("base", steps)
    edited = chain_keys("base", [("COPY /a", {}, "sha256:2"), steps[1]])
    assert first[1] != edited[1]


def key_for(body: str, build_args: dict) -> str:
    df = parse("FROM x\n" + body)
    state = StageState.from_image(None, StageArgs(BuildArgs(build_args), {}))
    for inst in df.instructions[1:-1]:
        state.dispatch(inst)
    last = df.instructions[-1]
    return step_key("base", step_text(state, last), args=state.args.used(state.env()))


def test_unused_build_args_do_not_change_keys() -> None:
    assert key_for("RUN make\n", {}) == key_for("RUN make\n", {"UNDECLARED": "1"})


def test_used_build_args_change_keys() -> None:
    assert key_for("ARG V\nRUN make\n", {"V": "1"}) != key_for("ARG V\nRUN make\n", {"V": "2"})


def test_env_shadowing_an_arg() -> None:
    body = "ARG V\nENV V=fixed\nRUN make\n"
    assert key_for(body, {"V": "1"}) == key_for(body, {"V": "2"})


def test_copy_key_after_editing_one_file(tmp_path: Path) -> None:
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(name)
    ctx = BuildContext.from_directory(tmp_path)

    def copy_key() -> str:
        return step_key("base", "COPY . /app", content=ctx.content_hash(ctx.resolve(".")))

    first = copy_key()
    os.utime(tmp_path / "a.py", (5, 5))
    assert copy_key() == first
    (tmp_path / "a.py").write_text("edited")
    assert copy_key() != first


def test_index_lookup_and_record(tmp_path: Path) -> None:
    index = CacheIndex(tmp_path / "cache")
    key = step_key("p", "RUN x")
    assert index.lookup(key) is None
    index.record(key, "sha256:layer1")
    assert index.lookup(key) == "sha256:layer1"
    index.record(key, "sha256:layer2")
    assert index.lookup(key) == "sha256:layer2"
    assert list(index.entries()) == [(key, "sha256:layer2")]
    assert not [p for p in (tmp_path / "cache").rglob(".tmp-*")]


def test_index_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    index = CacheIndex(tmp_path)
    key = step_key("p", "RUN x")
    index.record(key, "id")
    path = tmp_path / key[7:9] / key[7:]
    path.write_text("{broken")
    assert index.lookup(key) is None


def test_index_forget_and_prune(tmp_path: Path) -> None:
    index = CacheIndex(tmp_path)
    keys = [step_key("p", f"RUN {n}") for n in range(3)]
    for n, key in enumerate(keys):
        index.record(key, f"id{n}")
    index.forget(keys[0])
    index.forget(keys[0])
    assert index.prune({"id1"}) == 1
    assert [k for k, _ in index.entries()] == [keys[1]]


def test_index_rejects_bad_keys(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="invalid build cache key"):
        CacheIndex(tmp_path).lookup("../../etc/passwd")
