"""The layer-making steps of a build: RUN, COPY and ADD, each with its cache key.

A step's key chains the stage's previous key with the expanded instruction, the build args it
sees and, for COPY/ADD, a hash of the content it copies (files, heredocs, downloads), never
mtimes. On a hit the cached layer is reused ("CACHED"); on a miss the layer is made (a build
container for RUN, a staging directory for COPY/ADD), stored and recorded.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from composer.engine.build.cache import step_key
from composer.engine.build.commit import Layer, now_rfc3339, place_layer, store_layer
from composer.engine.build.context import BuildContext, Source
from composer.engine.build.copying import Copier, looks_like_archive
from composer.engine.build.dockerfile import Instruction
from composer.engine.build.expand import Platform
from composer.engine.build.instructions import add_source_kind, check_checksum, copy_history, parse_chmod, step_text
from composer.engine.build.running import network_mode, run_step
from composer.engine.build.runmounts import build_mounts, drop_stubs
from composer.engine.build.stages import Stage
from composer.engine.build.view import merged
from composer.errors import BuildError, ComposerError

if TYPE_CHECKING:
    from composer.engine.build.gitsource import GitSource
    from composer.engine.build.executor import Builder, StageResult

OUTPUT_TAIL = 30  # lines of a failing RUN's output shown in the error


class Step:
    """One RUN/COPY/ADD of a stage."""

    def __init__(self, builder: Builder, stage: Stage, result: StageResult, inst: Instruction, label: str) -> None:
        self.builder, self.stage, self.result, self.inst, self.label = builder, stage, result, inst, label
        self.state = result.state
        self.started = time.monotonic()
        self._from_dirs: list[Path] = []
        self._named_context: BuildContext | None = None  # COPY --from=<additional context>
        self._repos: list[tuple[GitSource, str]] = []  # ADD <git repository>: (source, commit)
        self.linked = inst.keyword in ("COPY", "ADD") and inst.flag("link") in ("", "true")

    def execute(self) -> None:
        self.builder.emit(self.label)
        try:
            if self.inst.keyword == "RUN":
                self._run()
            else:
                self._copy()
        except BuildError as error:
            if error.location is not None:
                raise
            raise BuildError(f"{self.label}: {error.message}", location=self.inst.location,
                             hint=error.hint) from None

    # --- cache ---------------------------------------------------------------------------------
    def _cached(self, key: str, created_by: str | None) -> bool:
        """Reuse the step's cached layer (and the history line it was recorded with).

        A ``--link`` layer does not depend on its parent: on a new parent it is placed there
        from its blob (unpacked, not copied again).
        """
        hit = self.builder.lookup(key)
        if hit is None:
            return False
        if self.linked:
            layer = place_layer(self.builder.store, hit[0], self.result.diff_ids)
        else:
            layer = hit[0] if self.builder.has_layer(self.result, hit[0]) else None
        if layer is None:
            return False
        self.builder.emit("CACHED")
        self._finish(key, layer, hit[2] or created_by or "", hit[1])
        return True

    def _finish(self, key: str, layer: Layer, created_by: str, created: str) -> None:
        self.result.add(layer, created, self.builder.store)
        self.state.history.append({"created": created, "created_by": created_by})
        # a linked layer's key leaves the parent out; the stage's chain of keys keeps it
        self.result.key = step_key(self.result.key, "link", content=key) if self.linked else key

    def _store(self, key: str, directory: Path, created_by: str) -> None:
        layer = store_layer(self.builder.store, directory, self.result.diff_ids)
        created = now_rfc3339()
        self.builder.remember(key, layer, created, created_by)
        self._finish(key, layer, created_by, created)
        self.builder.emit(f"DONE {time.monotonic() - self.started:.1f}s")

    # --- RUN -----------------------------------------------------------------------------------
    def _run(self) -> None:
        inst, state = self.inst, self.state
        used = state.args.used(state.env())
        network = network_mode(inst.flag("network") or self.builder.request.network)
        key = step_key(self.result.key, step_text(state, inst), args=used, extra={"network": network})
        created_by = state.run_history(inst)
        if self._cached(key, created_by):
            return
        if not self.result.platform.runnable():
            raise BuildError(f"RUN cannot run programs for {self.result.platform} on this {Platform.host()} "
                             "machine (composer has no emulation)", location=inst.location,
                             hint="build for this machine's platform, or use FROM --platform=$BUILDPLATFORM "
                                  "in the stages that RUN")
        argv = state.run_argv(inst)
        env = [*(state.config.get("Env") or []), *(f"{k}={v}" for k, v in used.items())]
        with ExitStack() as stack:
            extra = build_mounts(self, stack)
            mounts = extra.mounts
            outcome = run_step(self.result.dirs, argv, [*env, *extra.env], cwd=state.config.get("WorkingDir") or "/",
                               user=state.config.get("User") or "", network=network,
                               scratch=self.builder.scratch, mounts=mounts, secrets=extra.secrets,
                               on_line=self.builder.emit)
        try:
            drop_stubs(outcome.upper, [*mounts, *(extra.secrets.mounts() if extra.secrets else ())], self.result.dirs)
            if outcome.exit_code != 0:
                tail = "\n".join(outcome.output.splitlines()[-OUTPUT_TAIL:])
                raise BuildError(f"{self.label}: the command '{' '.join(argv)}' returned a non-zero code: "
                                 f"{outcome.exit_code}" + (f"\n{tail}" if tail else ""),
                                 location=inst.location, hint="fix the command; no image was tagged")
            self._store(key, outcome.upper, created_by)
        finally:
            if outcome.upper.exists():
                shutil.rmtree(outcome.upper, ignore_errors=True)

    # --- COPY / ADD ----------------------------------------------------------------------------
    def _copy(self) -> None:
        inst, state = self.inst, self.state
        add = inst.keyword == "ADD"
        dest = state.expand(inst.args[-1])
        exclude = tuple(state.expand(p) for p in inst.flag_all("exclude"))
        origin = self._origin()
        with ExitStack() as stack:
            context = None if origin else self._named_context or self.builder.context
            sources, urls = self._sources(context, add) if context else ([], [])
            downloads = [self._download(url) for url in urls]
            docs = [(doc.name, state.heredoc_text(doc).encode()) for doc in inst.heredocs]
            content = self._content(context, sources, exclude, [*downloads, *self._repo_keys()], docs, origin)
            # --link: neither the parent nor the stage's args (the expanded text has what it uses)
            key = step_key("" if self.linked else self.result.key, step_text(state, inst),
                           args=None if self.linked else state.args.used(state.env()), content=content,
                           extra={"link": True} if self.linked else None)
            if origin:  # the files of another stage or image: resolved only when not cached
                if self._cached(key, None):
                    return
                context = self._origin_context(stack)
                sources, _ = self._sources(context, add)
            count = len(sources) + len(downloads) + len(docs) + len(self._repos)
            directory = count > 1 or any(s.is_dir for s in sources) or bool(self._repos)
            created_by = copy_history(state.shell, inst.keyword, content, dest, directory=directory)
            if self._cached(key, created_by):
                return
            staging = self.builder.store.private_dir()
            os.chmod(staging, 0o755)
            try:
                self._fill(staging, context, sources, downloads, docs, dest, exclude, add)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            self._store(key, staging, created_by)

    def _origin(self) -> str | None:
        """For ``COPY --from``: what identifies the source files (the stage's cache key or the image id).

        A stage's key determines its files, so it stands in for their content hash (no mount,
        no hashing of a whole root filesystem on a cache hit). A named local context (compose
        ``additional_contexts``) is a directory like the main context: None, content hashed.
        """
        name = self.inst.flag("from")
        if name is None or self.inst.keyword != "COPY":
            return None
        name = self.state.expand(name)
        named = next((c for c in self.builder.request.contexts if c.name == name), None)
        if named is not None and named.kind == "image":
            name = named.value
        elif named is not None and named.kind == "local":
            self._named_context = BuildContext.from_directory(named.value)
            return None
        found = self.builder.stage_result(name, self.inst)
        if found is not None:
            self._from_dirs, identity = found.dirs, found.key
        else:
            image = self.builder.image(name, self.inst, self.result.platform)
            self._from_dirs, identity = image[3], image[0]
        return f"from:{name}:{identity}"

    def _origin_context(self, stack: ExitStack) -> BuildContext:
        """The root of the stage/image ``--from`` names, mounted for the step."""
        return BuildContext.from_rootfs(stack.enter_context(merged(self._from_dirs, self.builder.scratch)))

    def _sources(self, context: BuildContext, add: bool) -> tuple[list[Source], list[str]]:
        sources, urls = [], []
        for word in self.inst.args[:-1]:
            if word.startswith("<<") and self.inst.heredocs:
                continue
            value = self.state.expand(word)
            kind = add_source_kind(value) if add else "local"
            if kind == "url":
                urls.append(value)
            elif kind == "git":
                self._add_repo(value)
            else:
                sources.extend(context.resolve(value, parents=self.inst.flag("parents") == "true"))
        return sources, urls

    # --- ADD <git repository> ------------------------------------------------------------------
    def _add_repo(self, value: str) -> None:
        """Note an ADD git source and the commit its ref names now (the cache key's content)."""
        from composer.engine.build.gitsource import parse_git_source, resolve_commit

        source = parse_git_source(value)
        commit = resolve_commit(source, self._git_env())
        checksum = self.inst.flag("checksum")
        if checksum is not None and not commit.startswith(self.state.expand(checksum).lower()):
            raise BuildError(f"ADD {value}: the ref resolves to commit {commit}, not --checksum={checksum}",
                             hint="for a git source --checksum is the expected commit id")
        if (source, commit) not in self._repos:
            self._repos.append((source, commit))

    def _git_env(self) -> dict[str, str]:
        """git's environment, with the build's ``default`` SSH agent for git@ / ssh:// remotes."""
        from composer.engine.build.gitsource import git_env

        agent = self.builder.request.ssh_agent("default")
        return git_env(self.builder.ssh_agents.socket(agent) if agent else None)

    @property
    def _keep_git_dir(self) -> bool:
        return self.inst.flag("keep-git-dir") in ("", "true")

    def _repo_keys(self) -> list[tuple[str, bytes]]:
        keep = self._keep_git_dir
        return [(f"git {source.url}:{source.subdir} keep={keep}", commit.encode()) for source, commit in self._repos]

    def _clone_repos(self, stack: ExitStack) -> list[tuple[BuildContext, Source]]:
        """Each noted repository checked out under the scratch dir (removed when ``stack`` ends)."""
        import tempfile

        from composer.engine.build.gitsource import checkout

        out = []
        for source, commit in self._repos:
            self.builder.scratch.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(dir=self.builder.scratch, prefix="git-"))
            stack.callback(shutil.rmtree, work, ignore_errors=True)
            root = checkout(source, commit, work / "repo", self._git_env(), keep_git_dir=self._keep_git_dir)
            context = BuildContext.from_rootfs(root)
            out.append((context, context.resolve(".")[0]))
        return out

    def _content(self, context: BuildContext | None, sources: list[Source], exclude: tuple[str, ...],
                 downloads: list[tuple[str, bytes]], docs: list[tuple[str, bytes]], origin: str | None) -> str:
        if origin is not None:
            words = "\0".join(self.state.expand(w) for w in self.inst.args[:-1])
            digest = hashlib.sha256(f"{origin}\0{words}\0{exclude}".encode())
        else:
            assert context is not None
            digest = hashlib.sha256(context.content_hash(sources, exclude).encode())
        for name, data in [*downloads, *docs]:
            digest.update(f"\0{name}\0{hashlib.sha256(data).hexdigest()}".encode())
        return "sha256:" + digest.hexdigest()

    def _download(self, url: str) -> tuple[str, bytes]:
        """ADD <url>: the file's name and bytes (checked against ``--checksum``)."""
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (http/https only)
                data = response.read()
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise BuildError(f"ADD cannot download {url}: {error}") from None
        checksum = self.inst.flag("checksum")
        if checksum is not None:
            wanted = check_checksum(self.state.expand(checksum))
            if "sha256:" + hashlib.sha256(data).hexdigest() != wanted:
                raise BuildError(f"ADD {url}: the content does not match --checksum={wanted}")
        from urllib.parse import urlparse

        name = posixpath.basename(urlparse(url).path) or "index.html"
        return name, data

    def _fill(self, staging: Path, context: BuildContext, sources: list[Source],
              downloads: list[tuple[str, bytes]], docs: list[tuple[str, bytes]], dest: str,
              exclude: tuple[str, ...], add: bool) -> None:
        """Write what the step adds under ``staging``."""
        many = len(sources) + len(downloads) + len(docs) + len(self._repos) > 1
        with ExitStack() as stack:
            # --link: a layer of its own, so the parent's files are not looked at
            dirs = [] if self.linked else self.result.dirs
            view = stack.enter_context(merged(dirs, self.builder.scratch)) if dirs else None
            copier = Copier(staging, view, None, None)
            copier.owner = self._owner(view)
            chmod = self.inst.flag("chmod")
            copier.chmod = parse_chmod(self.state.expand(chmod)) if chmod is not None else None
            workdir = self.state.config.get("WorkingDir") or "/"
            only_dirs = bool(sources or self._repos) and all(s.is_dir for s in sources)
            rel, as_dir = copier.destination(dest, workdir, many=many, source_is_dir=only_dirs)
            for source in sources:
                path = context.root / source.path
                if add and not source.is_dir and looks_like_archive(path):
                    copier.extract(path, rel)
                else:
                    copier.copy_source(context, source, rel, as_dir, exclude)
            for name, data in downloads:
                copier.write_file(posixpath.join(rel, name) if as_dir else rel, data, 0o600)
            for name, data in docs:
                copier.write_file(posixpath.join(rel, name) if as_dir else rel, data, 0o644)
            for repo, root in self._clone_repos(stack):
                copier.copy_source(repo, root, rel, True, exclude)

    def _owner(self, view: Path | None) -> tuple[int, int] | None:
        """``--chown`` as numbers, names looked up in the stage's own /etc/passwd and /etc/group."""
        chown = self.inst.flag("chown")
        if chown is None:
            return None
        spec = self.state.expand(chown)
        from composer.engine.runtime.userdb import resolve_user

        try:
            uid, gid, _groups, _home = resolve_user(spec, str(view) if view else "/nonexistent")
        except (ComposerError, ValueError, IndexError) as error:
            hint = "with --link the stage's /etc/passwd is not read: use numeric ids" if self.linked \
                else "use numeric ids or names the image defines"
            raise BuildError(f"--chown={spec}: {error}", hint=hint) from None
        return uid, gid if ":" in spec else uid  # Docker: a user alone uses its uid as gid
