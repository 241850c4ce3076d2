"""The Dockerfile front end of composer's builder (pure logic: no kernel, no store, no network).

Modules, in the order a build uses them:

- ``request``: ``BuildRequest`` from ``image build`` flags (``from_flags``) or a compose
  service's ``build:`` (``from_service``: tags, args, labels, target, additional contexts).
- ``plan``: ``prepare(request)`` -> ``BuildPlan`` (parsed Dockerfile, check findings as warnings,
  global ARG scope, all stages, the ones the target needs and their waves), ``step_label`` for
  progress lines, ``unused_args_warning`` at the end.
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
- ``secrets``: ``--secret`` / ``--ssh`` values and compose ``build.secrets`` / ``build.ssh``
  (``Secret``, ``SshAgent``, ``AgentPool`` for key files); ``runmounts`` mounts them into RUN
  steps, through an ``sshproxy`` socket when the mount asks for an owner or mode.
- ``gitsource``: ``ADD <git repository>`` (ref resolved to a commit for the cache key, cloned with git).
- ``commit``: layers stored as gzip blobs (``compress``: several threads, diff id hashed on
  the way), ``place_layer`` for ``--link`` layers on a new parent, images committed and tagged in one index update.

How the executor (written later, on top of ``engine.runtime`` and ``engine.images``) uses them::

    plan = prepare(request)                                       # parse, checks, stages for --target
    df, args, meta_scope = plan.dockerfile, plan.build_args, plan.meta
    for wave in plan.waves:                                       # each wave concurrently
        for stage in wave:
            base = built[stage.base_stage] or store.pull(stage.base)   # or None for scratch
            state = StageState.from_image(base.config, StageArgs(args, meta_scope), Lexer(df.escape))
            parent = base.id
            for inst in onbuild_triggers(base.config, df.escape) + list(stage.instructions):
                content = None
                if inst.keyword in ("COPY", "ADD") and not inst.flag("from"):
                    sources = [s for w in inst.args[:-1] for s in ctx.resolve(state.expand(w))]
                    content = ctx.content_hash(sources, inst.flag_all("exclude"))
                    # heredoc sources: state.heredoc_text(doc); --from: BuildContext.from_rootfs
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
    warning = unused_args_warning(plan)                           # "[Warning] ... not consumed"

A failing step leaves no tag: the image is only tagged after the last step succeeds.
"""
