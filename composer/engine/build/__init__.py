"""The Dockerfile front end of composer's builder (pure logic: no kernel, no store, no network).

Modules, in the order a build uses them:

- ``request``: ``BuildRequest`` from ``image build`` flags (``from_flags``) or a compose
  service's ``build:`` (``from_service``: tags, args, labels, target, additional contexts).
- ``dockerfile``: ``parse(text, file)`` -> ``Dockerfile`` (directives, escape char, located
  ``Instruction`` objects with flags, JSON/shell forms and heredocs).
- ``checks``: BuildKit-named lint rules (JSONArgsRecommended, StageNameCasing ...) honouring
  ``# check=skip=...;error=true``; findings are warnings for the progress output.
- ``stages``: ``split(dockerfile, build_args)`` -> ``Stage`` list (FROM expanded with the global
  ARG scope), ``needed(stages, target)`` for ``--target``, ``waves(...)`` for concurrency.
- ``expand``: the word lexer (``Lexer.expand``), ``BuildArgs`` (``--build-arg`` values, predefined
  proxy/platform args, ``unused()`` for the "not consumed" warning) and ``StageArgs``.
- ``instructions``: ``StageState`` (a stage's image config, args and history), ``dispatch`` for
  config-only instructions, ``run_argv`` / ``run_history`` for RUN, ``copy_history``,
  ``step_text`` for cache keys, ``onbuild_triggers`` for a base image's ONBUILD.
- ``context`` and ``dockerignore``: the build context (directory or tar stream), source
  resolution for COPY/ADD with Docker's globbing and errors, and content hashes.
- ``cache``: ``step_key(parent, instruction, args=, content=)`` and ``CacheIndex`` on disk.

How the executor (written later, on top of ``engine.runtime`` and ``engine.images``) uses them::

    df = dockerfile.parse(text, "Dockerfile")                     # warnings -> events
    findings = checks.run(df)                                     # more warnings (or BuildError)
    args = expand.BuildArgs(build_args, target=platform)
    todo = stages.needed(stages.split(df, args), target)          # skipped stages never run
    for wave in stages.waves(todo):                               # each wave concurrently
        for stage in wave:
            base = built[stage.base_stage] or store.pull(stage.base)   # or None for scratch
            state = StageState.from_image(base.config, StageArgs(args, meta_scope), Lexer(df.escape))
            parent = base.id
            for inst in onbuild_triggers(base.config, df.escape) + list(stage.instructions):
                content = None
                if inst.keyword in ("COPY", "ADD") and not inst.flag("from"):
                    sources = [s for w in inst.args[:-1] for s in ctx.resolve(state.expand(w))]
                    content = ctx.content_hash(sources)
                key = cache.step_key(parent, step_text(state, inst),
                                     args=state.args.used(state.env()), content=content)
                hit = None if no_cache else index.lookup(key)       # "CACHED" when hit
                if inst.keyword in CONFIG_ONLY:
                    state.dispatch(inst)                           # config + history only
                elif hit is None:
                    # RUN: a build container from the runtime with state.run_argv(inst),
                    #      env = state.env() | state.args.used(...), User, WorkingDir,
                    #      network none/default, mounts from parse_mount(); the upper dir
                    #      diffed into an OCI layer (whiteouts) in the image store.
                    # COPY/ADD: files copied from ctx.entries() (or another stage/image)
                    #      with --chown/--chmod; history via copy_history(...).
                    hit = produce_layer(...); index.record(key, hit)
                parent = key
        # the target's state.image_config() + layers -> image config, tagged atomically
    warnings += args.unused()                                     # "[Warning] build-args not consumed"

A failing step leaves no tag: the image is only tagged after the last step succeeds.
"""
