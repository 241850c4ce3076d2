"""The builder's front end (no executor yet) against a whole no-change rebuild by buildah.

composer's figure is a fresh process that does everything a no-change rebuild does before the
executor: parse, checks, stages for the target, every step's expansion and cache key, COPY content
hashes (with the persisted digest memo) and the cache index lookups. It is the share of the
issue's 0.5 s no-change-rebuild budget that the front end takes. The peer is a complete
``buildah bud --layers`` no-change rebuild of the same context (isolated storage under a
temporary directory, vfs driver, removed afterwards). dockerd and podman need host changes here
(PEERS.md), so they are left out.

Run: /work/main/.venv/bin/python bench/bench_build_frontend.py [--rounds N] [--files N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import VENV_BIN, Case, measure, report

DOCKERFILE = """\
FROM scratch AS assets
COPY static /static
FROM scratch
COPY --from=assets /static /app/static
COPY src /app/src
COPY config.ini /app/
ENV APP_HOME=/app MODE=production
LABEL org.opencontainers.image.title=bench
WORKDIR /app
EXPOSE 8080
CMD ["/app/src/run"]
"""

PROBE = """
import sys
from pathlib import Path
from composer.engine.build import cache, checks, dockerfile, stages
from composer.engine.build.context import BuildContext, load_digests, save_digests
from composer.engine.build.expand import BuildArgs, Lexer, StageArgs
from composer.engine.build.instructions import CONFIG_ONLY, StageState, step_text

ctx_dir, state = Path(sys.argv[1]), Path(sys.argv[2])
df = dockerfile.parse((ctx_dir / "Dockerfile").read_text(), "Dockerfile")
checks.run(df)
args = BuildArgs({})
todo = stages.needed(stages.split(df, args))
ctx = BuildContext.from_directory(ctx_dir, ctx_dir / "Dockerfile")
ctx.digests = load_digests(state / "digests.json")
index = cache.CacheIndex(state / "cache")
meta = args.meta_scope(stages.meta_args(df), Lexer(df.escape))
done = {}
for stage in todo:
    st = StageState.from_image(None, StageArgs(args, meta), Lexer(df.escape))
    parent = done.get(stage.base_stage, stage.base)
    for inst in stage.instructions:
        content, extra = None, {}
        if inst.keyword == "COPY" and inst.flag("from"):
            ref = inst.flag("from").lower()
            extra = {"from": next(done[s.index] for s in todo if ref in (s.name, str(s.index)))}
        elif inst.keyword == "COPY":
            sources = [s for w in inst.args[:-1] for s in ctx.resolve(st.expand(w))]
            content = ctx.content_hash(sources)
        key = cache.step_key(parent, step_text(st, inst), args=st.args.used(st.env()),
                             content=content, extra=extra)
        if inst.keyword in CONFIG_ONLY:
            st.dispatch(inst)
        if index.lookup(key) is None:
            index.record(key, key)
        parent = key
    done[stage.index] = parent
if ctx.computed:
    save_digests(state / "digests.json", ctx.digests)
"""


def make_context(root: Path, files: int) -> None:
    """A context of ``files`` 8 KiB sources, some static assets and an ignored node_modules."""
    (root / "src").mkdir(parents=True)
    (root / "static").mkdir()
    (root / "node_modules/pkg").mkdir(parents=True)
    for index in range(files):
        sub = root / "src" / f"pkg{index % 40}"
        sub.mkdir(exist_ok=True)
        (sub / f"mod{index}.py").write_bytes(os.urandom(8192))
    for index in range(50):
        (root / "static" / f"asset{index}.css").write_bytes(os.urandom(4096))
    for index in range(500):
        (root / "node_modules/pkg" / f"{index}.js").write_text("x")
    (root / "config.ini").write_text("[app]\nmode=prod\n")
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / ".dockerignore").write_text("node_modules\n**/*.pyc\n.git\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=2000)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        ctx, state, storage = work / "ctx", work / "state", work / "buildah"
        make_context(ctx, options.files)
        probe = [str(VENV_BIN / "python"), "-c", PROBE, str(ctx), str(state)]
        commands = {"composer": probe}
        buildah = shutil.which("buildah")
        if buildah:
            commands["buildah"] = [buildah, "--root", str(storage / "root"), "--runroot", str(storage / "run"),
                                   "--storage-driver", "vfs", "bud", "--layers", "-q", "-t", "bench:frontend",
                                   str(ctx)]
        for argv in commands.values():  # the first (cold) build fills each tool's cache
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cases = [Case(f"no-change rebuild, {options.files} files (composer: front end only)", commands)]
        outcomes = measure(cases, rounds=options.rounds, warmup=1)
        print(f"load average {os.getloadavg()[0]:.1f}")
        report("build_frontend", outcomes, options.rounds, [], files=options.files, peers=list(commands))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
