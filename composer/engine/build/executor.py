"""The builder: a BuildPlan executed stage by stage into layers and a tagged image.

``build(request)`` prepares the plan (``build.plan``), then for every stage the target needs:
resolves its base (an earlier stage, a store image pulled when missing, or scratch), applies
ONBUILD triggers and instructions, and keeps a chain of cache keys (``build.cache``). RUN,
COPY and ADD make layers (``build.steps``) unless the cache holds the step's layer; config-only
instructions only change the stage's config and history. The target's image is committed and
tagged at the very end, so a failing step leaves no image and no tag behind.

Progress goes to ``emit(line)``; the library never prints.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable

from composer import settings
from composer.engine.build import plan as planning
from composer.engine.build.cache import default_index, step_key
from composer.engine.build.commit import (Layer, commit_image, descriptor, has_layer, image_config, now_rfc3339,
                                          read_image, retag)
from composer.engine.build.context import BuildContext, load_digests, save_digests
from composer.engine.build.dockerfile import Instruction
from composer.engine.build.expand import Lexer, Platform, StageArgs
from composer.engine.build.instructions import CONFIG_ONLY, StageState, onbuild_triggers, step_text
from composer.engine.build.leftovers import remove_killed_builds, scratch_prefix
from composer.engine.build.request import STDIN, BuildRequest
from composer.engine.build.secrets import AgentPool
from composer.engine.build.stages import Stage
from composer.engine.images.store import ImageStore
from composer.errors import BuildError, ImageNotFound

Emit = Callable[[str], None]


@dataclass
class StageResult:
    """A stage as built so far: its config state, layers (descriptors, diff ids, snapshot dirs)."""

    state: StageState
    key: str
    created: str
    platform: Platform
    diff_ids: list[str] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    dirs: list[Path] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # unpacked sizes of the layers built here

    def add(self, layer: Layer, created: str, store: ImageStore) -> None:
        self.diff_ids.append(layer.diff_id)
        self.layers.append(descriptor(layer))
        self.dirs.append(store.snapshot_path(layer.chain))
        self.sizes[layer.chain] = layer.size
        self.created = created


def builder_root() -> Path:
    """Where the builder keeps its cache index and context digest memo."""
    return settings.state_root() / "builder"


class Builder:
    """One build: ``Builder(request, emit=...).build()`` -> the image id."""

    def __init__(self, request: BuildRequest, *, store: ImageStore | None = None, emit: Emit | None = None,
                 stdin: BinaryIO | None = None, dockerfile_text: str | None = None) -> None:
        self.request = request
        self.store = store or ImageStore()
        self.emit: Emit = emit or (lambda _line: None)
        self.stdin = stdin
        self.text = dockerfile_text
        self.cache = default_index()
        self.results: dict[int, StageResult] = {}
        self.context: BuildContext | None = None
        self._scratch: Path | None = None
        self.ssh_agents = AgentPool()  # stopped at the end of build()
        self.plan: planning.BuildPlan | None = None  # set by build()

    @property
    def scratch(self) -> Path:
        """A private temporary directory of this build (made on first use, removed at the end)."""
        if self._scratch is None:
            self._scratch = self.store.private_dir(scratch_prefix())
        return self._scratch

    def build(self) -> str:
        """Run the build; returns the image id (tagged with the request's tags)."""
        from composer.engine.images.reference import parse_reference

        remove_killed_builds(self.store.root / "tmp")
        try:
            names = [str(parse_reference(tag)) for tag in self.request.tags]
            self.context = self._open_context()
            plan = planning.prepare(self.request, text=self.text, name="Dockerfile" if self.text else None)
            for warning in plan.warnings:
                self.emit(f"WARNING: {warning}")
            self.plan = plan
            with self.store.gc_guard():  # an image prune waits: new layers are not referenced yet
                for wave in plan.waves:
                    self._build_wave(wave)
                image_id = self._commit(self.results[plan.needed[-1].index], names)
            warning = planning.unused_args_warning(plan)
            if warning:
                self.emit(warning)
            self._save_digests()
            return image_id
        finally:
            self.ssh_agents.close()
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)

    # --- the context --------------------------------------------------------------------------
    def _open_context(self) -> BuildContext:
        if self.request.context == STDIN:
            from composer.engine.build.context import from_stream

            if self.stdin is None:
                raise BuildError("the build context is '-' but there is no standard input")
            context, text = from_stream(self.stdin, self.scratch / "context")
            if text is None and self.text is None:  # a tar context: its own Dockerfile
                name = os.path.basename(self.request.dockerfile or "Dockerfile")
                try:
                    text = (context.root / name).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as error:
                    raise BuildError(f"cannot read {name} from the context archive: {error}",
                                     hint="put the Dockerfile at the archive's top level") from None
            self.text = self.text if text is None else text
            return context
        dockerfile = self.request.dockerfile or str(Path(self.request.context) / "Dockerfile")
        context = BuildContext.from_directory(self.request.context, dockerfile)
        context.digests = load_digests(builder_root() / "digests.json")
        return context

    def _save_digests(self) -> None:
        if self.context is not None and self.context.computed and self.request.context != STDIN:
            save_digests(builder_root() / "digests.json", self.context.digests)

    # --- stages -------------------------------------------------------------------------------
    def _build_wave(self, wave: tuple[Stage, ...]) -> None:
        """Build stages that do not depend on each other, concurrently when there are several."""
        if len(wave) == 1:
            self.results[wave[0].index] = self._build_stage(wave[0])
            return
        from concurrent.futures import ThreadPoolExecutor

        assert self.scratch.is_dir()  # made here, not raced for by the threads
        with ThreadPoolExecutor(max_workers=len(wave), thread_name_prefix="build-stage") as pool:
            futures = {stage.index: pool.submit(self._build_stage, stage) for stage in wave}
            for index, future in futures.items():
                self.results[index] = future.result()

    def _build_stage(self, stage: Stage) -> StageResult:
        result, base_config = self._base(stage)
        self.emit(planning.step_label(stage, 0))
        triggers = onbuild_triggers(base_config, self.plan.dockerfile.escape)
        for position, inst in enumerate([*triggers, *stage.instructions], start=1 - len(triggers)):
            label = planning.step_label(stage, position) if position > 0 else f"[{stage.label}] ONBUILD {inst.original}"
            self._step(stage, result, inst, label)
        return result

    def _base(self, stage: Stage) -> tuple[StageResult, dict[str, Any] | None]:
        """The starting point of a stage (an earlier stage, an image, or scratch) and its config."""
        lexer = Lexer(self.plan.dockerfile.escape)
        args = StageArgs(self.plan.build_args, self.plan.meta)
        if stage.base_stage is not None:
            parent = self.results[stage.base_stage]
            config = parent.state.image_config()
            platform = self.platform(stage) if stage.platform else parent.platform
            return StageResult(StageState.from_image(config, args, lexer), parent.key, parent.created, platform,
                               list(parent.diff_ids), list(parent.layers), list(parent.dirs),
                               dict(parent.sizes)), config
        platform = self.platform(stage)
        if stage.base.lower() == "scratch":
            return StageResult(StageState.from_image(None, args, lexer), "", "", platform), None
        named = next((c for c in self.request.contexts if c.name == stage.base and c.kind == "image"), None)
        image_id, config, layers, dirs = self.image(named.value if named else stage.base, stage.instruction, platform)
        state = StageState.from_image(config, args, lexer)
        return StageResult(state, image_id, config.get("created") or "", platform,
                           list(config.get("rootfs", {}).get("diff_ids", [])), layers, dirs), config

    def platform(self, stage: Stage) -> Platform:
        """The platform a stage is built for: FROM --platform, else --platform, else this machine."""
        text = stage.platform or self.request.platform
        if not text:
            return Platform.host()
        try:
            return Platform.parse(text)
        except BuildError as error:
            raise BuildError(f"FROM: {error.message}", location=stage.instruction.location, hint=error.hint) from None

    def image(self, reference: str, inst: Instruction,
              platform: Platform | None = None) -> tuple[str, dict[str, Any], list[dict[str, Any]], list[Path]]:
        """A store image for ``platform`` (pulled when missing, of another platform, or with --pull)."""
        platform = platform or Platform.host()
        resolved = None
        if not self.request.pull:
            try:
                resolved = self.store.resolve(reference)
            except ImageNotFound:
                resolved = None
        found = read_image(self.store, resolved.id) if resolved is not None else None
        if found is None or not platform.matches(found[0]):
            resolved = self._pull(reference, inst, platform)
            found = read_image(self.store, resolved.id)
        return resolved.id, found[0], found[1], list(resolved.layer_dirs)

    def _pull(self, reference: str, inst: Instruction, platform: Platform):
        from composer.engine.images.pull import pull
        from composer.errors import ComposerError

        self.emit(f"pulling {reference}" + ("" if platform == Platform.host() else f" for {platform}"))
        try:
            result = pull(reference, store=self.store, platform=str(platform))
        except ComposerError as error:
            raise BuildError(f"{inst.original}: cannot get the image {reference} for {platform}: {error.message}",
                             location=inst.location, hint=error.hint) from None
        resolved = self.store.resolve(result.image_id)
        if not platform.matches(json.loads(self.store.blobs.read(resolved.id))):
            raise BuildError(f"{inst.original}: the image {reference} is not for {platform}", location=inst.location,
                             hint="choose a --platform the image provides")
        return resolved

    # --- steps --------------------------------------------------------------------------------
    def _step(self, stage: Stage, result: StageResult, inst: Instruction, label: str) -> None:
        state = result.state
        if inst.keyword in CONFIG_ONLY:
            key = step_key(result.key, step_text(state, inst), args=state.args.used(state.env()))
            entry = state.dispatch(inst)
            entry["created"] = result.created or now_rfc3339()
            result.key = key
            if inst.keyword == "WORKDIR":
                self.emit(label)
            return
        if inst.keyword not in ("RUN", "COPY", "ADD"):
            raise BuildError(f"{inst.keyword} is not supported by this builder", location=inst.location)
        from composer.engine.build.steps import Step

        step = Step(self, stage, result, inst, label)
        step.execute()

    def stage_result(self, name: str, inst: Instruction) -> StageResult | None:
        """The built stage ``--from=name`` names (by name or index), or None for an image."""
        for stage in self.plan.stages:
            if stage.name == name.lower() or (name.isdigit() and stage.index == int(name)):
                found = self.results.get(stage.index)
                if found is None:
                    raise BuildError(f"--from={name} refers to a stage that is not built yet",
                                     location=inst.location)
                return found
        return None

    def lookup(self, key: str) -> tuple[Layer, str, str | None] | None:
        """A cached step's layer, creation time and history line (None on a miss or --no-cache)."""
        if self.request.no_cache:
            return None
        entry = self.cache.entry(key)
        record = entry.get("detail") if entry is not None else None
        if entry is not None and not isinstance(record, dict) and self.store.blobs.exists(entry["id"]):
            record = json.loads(self.store.blobs.read(entry["id"]))  # recorded as a blob (before the detail)
        if not isinstance(record, dict):
            return None
        layer = Layer(record["diff_id"], record["size"], record["chain"], record.get("digest", ""),
                      record.get("blob_size", 0))
        return layer, record["created"], record.get("created_by")

    def remember(self, key: str, layer: Layer, created: str, created_by: str) -> None:
        """Record a step's layer in the cache, by its blob (gone from the store: a dangling entry)."""
        record = {"diff_id": layer.diff_id, "size": layer.size, "chain": layer.chain, "digest": layer.digest,
                  "blob_size": layer.blob_size, "created": created, "created_by": created_by}
        self.cache.record(key, layer.blob, detail=record)

    def has_layer(self, result: StageResult, layer: Layer) -> bool:
        return has_layer(self.store, result.diff_ids, layer)

    # --- the result ---------------------------------------------------------------------------
    def _commit(self, result: StageResult, names: list[str]) -> str:
        """The image of the target stage, tagged; an unchanged build reuses its previous image."""
        key = step_key(result.key, "commit",
                       extra={"labels": dict(self.request.labels), "platform": str(result.platform)})
        previous = None if self.request.no_cache else self.cache.lookup(key)
        if previous is not None and retag(self.store, previous, names):
            image_id = previous
        else:
            state = result.state
            if self.request.labels:
                state.config["Labels"] = {**(state.config.get("Labels") or {}), **self.request.labels}
            document = image_config(state.image_config(), result.diff_ids, result.created or now_rfc3339(),
                                    result.platform)
            image_id = commit_image(self.store, document, result.layers, names, result.sizes)
            self.cache.record(key, image_id)
        for name in names:
            self.emit(f"naming to {name}")
        return image_id


def build(request: BuildRequest, *, emit: Emit | None = None, store: ImageStore | None = None,
          stdin: BinaryIO | None = None, dockerfile_text: str | None = None) -> str:
    """Build ``request``; returns the image id."""
    return Builder(request, store=store, emit=emit, stdin=stdin, dockerfile_text=dockerfile_text).build()
