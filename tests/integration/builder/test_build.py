"""Real builds on the busybox image: instructions, layers, stages, cache, errors."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from composer.engine.images.store import ImageStore
from composer.errors import BuildError
from tests.integration.builder.conftest import layer_blob, write

pytestmark = [pytest.mark.root]

EVERYTHING = """\
# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM ${BASE} AS base
ARG VERSION=1.0
ENV APP_HOME=/srv/app GREETING="hello world"
LABEL org.example.version=$VERSION maintainer="team"
WORKDIR $APP_HOME
COPY --chown=1000:1000 app/ ./
COPY --chmod=0755 run.sh /usr/local/bin/
ADD archive.tar /opt/
RUN echo "$GREETING $VERSION" > greeting && rm /bin/vi && mkdir -p /var/empty && rm -rf /usr/sbin
RUN <<EOT
echo heredoc > /heredoc.txt
EOT
USER 1000:1000
EXPOSE 8080 53/udp
VOLUME ["/data"]
HEALTHCHECK --interval=5s --retries=3 CMD ["true"]
STOPSIGNAL SIGINT
SHELL ["/bin/sh", "-eu", "-c"]
ONBUILD RUN echo child
ENTRYPOINT ["/usr/local/bin/run.sh"]
CMD ["serve"]
"""


def image_config(image_id: str) -> dict:
    return json.loads(ImageStore().blobs.read(image_id))


def layer_names(diff_id: str) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(layer_blob(diff_id)) as tar:
        return {member.name.rstrip("/"): member for member in tar}


def make_archive(path: Path) -> None:
    source = path.parent.parent / "archive-src"
    write(source, {"pkg/readme.txt": "from the archive\n"})
    with tarfile.open(path, "w") as tar:
        tar.add(source / "pkg", arcname="pkg")


def test_every_instruction(builder, context: Path) -> None:
    write(context, {"app/main.txt": "main\n", "app/lib/util.txt": "util\n", "run.sh": "#!/bin/sh\necho run\n"})
    make_archive(context / "archive.tar")
    image_id, lines = builder(context, EVERYTHING, tags=("every:1",), build_args={"VERSION": "2.5"})
    assert ImageStore().resolve("every:1").id == image_id
    document = image_config(image_id)
    config = document["config"]
    assert "APP_HOME=/srv/app" in config["Env"] and "GREETING=hello world" in config["Env"]
    assert config["Labels"] == {"org.example.version": "2.5", "maintainer": "team"}
    assert config["WorkingDir"] == "/srv/app" and config["User"] == "1000:1000"
    assert config["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}}
    assert config["Volumes"] == {"/data": {}}
    assert config["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 5_000_000_000, "Retries": 3}
    assert config["StopSignal"] == "SIGINT" and config["Shell"] == ["/bin/sh", "-eu", "-c"]
    assert config["OnBuild"] == ["RUN echo child"]
    assert config["Entrypoint"] == ["/usr/local/bin/run.sh"] and config["Cmd"] == ["serve"]
    diff_ids = document["rootfs"]["diff_ids"]
    assert len(diff_ids) == 1 + 5  # busybox + COPY, COPY, ADD, RUN, RUN
    assert [h.get("empty_layer", False) for h in document["history"]].count(False) == 6
    copied = layer_names(diff_ids[1])
    assert copied["srv/app/lib/util.txt"].uid == 1000 and copied["srv/app/main.txt"].gid == 1000
    assert layer_names(diff_ids[2])["usr/local/bin/run.sh"].mode == 0o755
    assert "opt/pkg/readme.txt" in layer_names(diff_ids[3])
    run_layer = layer_names(diff_ids[4])
    assert "bin/.wh.vi" in run_layer and "usr/.wh.sbin" in run_layer
    assert "srv/app/greeting" in run_layer and "var/empty" in run_layer
    assert "etc/hosts" not in run_layer and "etc/resolv.conf" not in run_layer
    assert "heredoc.txt" in layer_names(diff_ids[5])
    snapshot = ImageStore().resolve("every:1").layer_dirs[4]
    assert (snapshot / "srv/app/greeting").read_text() == "hello world 2.5\n"
    assert any("COPY --chown=1000:1000 app/ ./" in line for line in lines)


def test_onbuild_triggers_run_in_the_child(builder, context: Path) -> None:
    builder(context, "FROM busybox\nONBUILD RUN echo triggered > /onbuild.txt\n", tags=("parent:1",))
    image_id, _ = builder(context, "FROM parent:1\nRUN cat /onbuild.txt\n")
    document = image_config(image_id)
    assert "OnBuild" not in document["config"]
    assert (ImageStore().resolve(image_id).layer_dirs[1] / "onbuild.txt").read_text() == "triggered\n"


def test_opaque_directory_after_recreating_it(builder, context: Path) -> None:
    dockerfile = "FROM busybox\nRUN mkdir -p /d && touch /d/old\nRUN rm -rf /d && mkdir /d && touch /d/new\n"
    image_id, _ = builder(context, dockerfile)
    names = layer_names(image_config(image_id)["rootfs"]["diff_ids"][-1])
    assert "d/.wh..wh..opq" in names and "d/new" in names


def test_multi_stage_copy_from_and_skipped_stages(builder, context: Path) -> None:
    dockerfile = """\
FROM busybox AS compile
RUN mkdir /out && echo binary > /out/app && chmod 755 /out/app
FROM busybox AS broken
RUN exit 3
FROM busybox AS final
COPY --from=compile /out/app /usr/bin/app
COPY --from=0 /out /copied
COPY --from=busybox:latest /bin/busybox /bb
"""
    image_id, lines = builder(context, dockerfile, tags=("multi:1",), target="final")
    assert not any("broken" in line for line in lines)
    top = image_config(image_id)["rootfs"]["diff_ids"]
    assert "usr/bin/app" in layer_names(top[1]) and "copied/app" in layer_names(top[2])
    assert layer_names(top[3])["bb"].size > 100_000
    with pytest.raises(BuildError, match="non-zero code: 3"):
        builder(context, dockerfile, target="broken")


def test_dockerignore_with_exceptions(builder, context: Path) -> None:
    write(context, {".dockerignore": "**/*.log\nsecrets\n!keep.log\n", "a.log": "x", "keep.log": "k",
                    "sub/deep/b.log": "x", "sub/ok.txt": "ok", "secrets/key": "s"})
    image_id, _ = builder(context, "FROM busybox\nCOPY . /ctx/\n")
    names = layer_names(image_config(image_id)["rootfs"]["diff_ids"][-1])
    assert {"ctx/keep.log", "ctx/sub/ok.txt"} <= set(names)
    assert not {"ctx/a.log", "ctx/sub/deep/b.log", "ctx/secrets/key", "ctx/secrets"} & set(names)
    with pytest.raises(BuildError, match="secrets/key.*not found in the build context"):
        builder(context, "FROM busybox\nCOPY secrets/key /k\n")


def test_the_cache_of_an_image_still_stored_survives_garbage_collection(builder, context: Path) -> None:
    """A rebuild after a gc (image rm of another image, watch --prune) still hits the cache: the
    step records live in the cache index, and gc keeps the layers it names (a removed image's too,
    as docker's image prune leaves the build cache alone)."""
    from composer.engine.images.catalog import gc, remove

    write(context, {"deps.txt": "deps\n"})
    dockerfile = "FROM busybox\nCOPY deps.txt /app/\nRUN cat /app/deps.txt > /app/installed\n"
    first, _ = builder(context, dockerfile, tags=("kept:1",))
    other, _ = builder(context, dockerfile + "RUN echo other > /other\n", tags=("other:1",))
    assert ("Deleted", other) in remove(ImageStore(), "other:1")
    gc(ImageStore())
    _, lines = builder(context, dockerfile + "RUN echo other > /other\n", tags=("other:1",))
    assert lines.count("CACHED") == 3  # the removed image's own step too


def test_cache_hits_and_misses_after_editing_one_file(builder, context: Path) -> None:
    write(context, {"deps.txt": "deps\n", "src/main.txt": "v1\n"})
    dockerfile = ("FROM busybox\nCOPY deps.txt /app/\nRUN cat /app/deps.txt > /app/installed\n"
                  "COPY src/ /app/src/\nRUN cat /app/src/main.txt > /app/built\n")
    first, lines = builder(context, dockerfile, tags=("cached:1",))
    assert lines.count("CACHED") == 0
    again, lines = builder(context, dockerfile, tags=("cached:1",))
    assert again == first and lines.count("CACHED") == 4
    (context / "src/main.txt").touch()  # a new mtime is no change
    assert builder(context, dockerfile)[0] == first
    (context / "src/main.txt").write_text("v2\n")
    edited, lines = builder(context, dockerfile, tags=("cached:1",))
    assert edited != first and lines.count("CACHED") == 2
    assert (ImageStore().resolve("cached:1").layer_dirs[-1] / "app/built").read_text() == "v2\n"
    _, lines = builder(context, dockerfile, no_cache=True)
    assert lines.count("CACHED") == 0


def test_failing_run_shows_output_and_leaves_no_image(builder, context: Path) -> None:
    dockerfile = "FROM busybox\nRUN echo preparing\nRUN echo the-output && exit 7\n"
    before = ImageStore().read_db()
    with pytest.raises(BuildError) as caught:
        builder(context, dockerfile, tags=("failed:1",))
    text = str(caught.value)
    assert "RUN echo the-output && exit 7" in text
    assert "the command '/bin/sh -c echo the-output && exit 7' returned a non-zero code: 7" in text  # docker's words
    assert "the-output" in text and "Dockerfile:3" in text
    after = ImageStore().read_db()
    assert after["refs"] == before["refs"] and after["images"].keys() == before["images"].keys()


def test_missing_copy_source_names_the_path_and_context(builder, context: Path) -> None:
    with pytest.raises(BuildError) as caught:
        builder(context, "FROM busybox\nCOPY nothere.txt /x\n")
    assert "nothere.txt" in str(caught.value) and str(context) in str(caught.value)
    assert "Dockerfile:2" in str(caught.value)


def test_copy_outside_the_context_is_refused(builder, context: Path, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("s")
    (context / "link").symlink_to(tmp_path / "secret")
    for source in ("../secret", "link"):
        with pytest.raises(BuildError, match="outside the build context"):
            builder(context, f"FROM busybox\nCOPY {source} /x\n")


def test_scratch_stage_and_copy_globs(builder, context: Path) -> None:
    write(context, {"a.conf": "a", "b.conf": "b", "c.txt": "c"})
    image_id, _ = builder(context, "FROM scratch\nCOPY *.conf /etc/app/\nCMD [\"/x\"]\n", tags=("tiny:1",))
    document = image_config(image_id)
    assert len(document["rootfs"]["diff_ids"]) == 1
    assert set(layer_names(document["rootfs"]["diff_ids"][0])) == {"etc", "etc/app", "etc/app/a.conf",
                                                                  "etc/app/b.conf"}


def test_build_from_a_worker_thread(builder, context: Path) -> None:
    """The compose engine calls builders from worker threads: RUN then uses a child process."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        image_id, lines = pool.submit(builder, context, "FROM busybox\nRUN echo threaded > /t\n").result()
    assert "threaded" not in lines  # the command's output is in the layer, not printed
    assert (ImageStore().resolve(image_id).layer_dirs[-1] / "t").read_text() == "threaded\n"
    with ThreadPoolExecutor(1) as pool:
        failing = pool.submit(builder, context, "FROM busybox\nRUN echo said-this; exit 125\n")
        with pytest.raises(BuildError, match="(?s)non-zero code: 125.*said-this"):
            failing.result()


def test_run_mounts_cache_bind_tmpfs(builder, context: Path) -> None:
    write(context, {"input.txt": "from the context\n"})
    dockerfile = """\
FROM busybox AS tools
RUN echo stage-file > /tool.txt
FROM busybox
RUN --mount=type=cache,target=/var/cache/app echo run >> /var/cache/app/count && wc -l < /var/cache/app/count > /runs
RUN --mount=type=bind,source=input.txt,target=/mnt/input.txt cp /mnt/input.txt /copied.txt
RUN --mount=type=bind,from=tools,source=/tool.txt,target=/mnt/tool.txt cp /mnt/tool.txt /tool-copy.txt
RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && ls /scratch > /scratch-list
"""
    image_id, _ = builder(context, dockerfile, no_cache=True)
    image = ImageStore().resolve(image_id)
    top = {path: layer for layer in image.layer_dirs for path in ("runs", "copied.txt", "tool-copy.txt")
           if (layer / path).exists()}
    assert (top["copied.txt"] / "copied.txt").read_text() == "from the context\n"
    assert (top["tool-copy.txt"] / "tool-copy.txt").read_text() == "stage-file\n"
    names = [name for diff_id in json.loads(ImageStore().blobs.read(image_id))["rootfs"]["diff_ids"][1:]
             for name in layer_names(diff_id)]
    assert not any(name.startswith(("var/cache/app", "mnt", "scratch/")) for name in names), names
    again, _ = builder(context, dockerfile, no_cache=True)  # the cache mount keeps its content
    runs = [layer / "runs" for layer in ImageStore().resolve(again).layer_dirs if (layer / "runs").exists()]
    assert runs[-1].read_text().strip() == "2"


def test_independent_stages_build_concurrently(builder, context: Path) -> None:
    """Each stage waits (up to 10 s) for the other's marker in a shared cache mount: only a
    concurrent build can pass."""
    wait = ("RUN --mount=type=cache,id=sync,target=/sync touch /sync/{me} && "
            "for i in $(seq 100); do [ -e /sync/{other} ] && break; sleep 0.1; done && "
            "[ -e /sync/{other} ] && echo {me} > /{me}")
    dockerfile = "\n".join([
        "FROM busybox AS left", wait.format(me="left", other="right"),
        "FROM busybox AS right", wait.format(me="right", other="left"),
        "FROM busybox", "COPY --from=left /left /out/left", "COPY --from=right /right /out/right", ""])
    image_id, _ = builder(context, dockerfile)
    top = ImageStore().resolve(image_id).layer_dirs
    assert (top[-2] / "out/left").read_text() == "left\n" and (top[-1] / "out/right").read_text() == "right\n"


def test_links_made_by_run_are_never_followed_on_the_host(builder, context: Path, tmp_path: Path) -> None:
    bait = tmp_path / "bait"
    bait.mkdir()
    (bait / "hosts").touch()
    (bait / "x").mkdir()
    dockerfile = (f"FROM busybox\nRUN --mount=type=tmpfs,target=/m/x (mv /etc /etc.old && ln -s {bait} /etc; "
                  f"mv /m /m.old && ln -s {bait} /m) 2>/dev/null; true\n")
    builder(context, dockerfile)
    assert (bait / "hosts").exists() and (bait / "x").is_dir()
