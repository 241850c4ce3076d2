"""Config-only instructions applied to an image config, with Docker's history lines."""

import pytest

from composer.engine.build.dockerfile import parse
from composer.engine.build.expand import BuildArgs, StageArgs
from composer.engine.build.instructions import (DEFAULT_PATH, StageState, add_source_kind, check_checksum, copy_history,
                                                onbuild_triggers, parse_chmod, parse_mount, parse_ports, split_chown,
                                                step_text)
from composer.errors import BuildError


def build(body: str, base: dict | None = None, build_args: dict | None = None) -> StageState:
    df = parse("FROM x\n" + body)
    state = StageState.from_image(base, StageArgs(BuildArgs(build_args or {}), {}))
    if DEFAULT_PATH in state.config["Env"] and base is None:
        state.config["Env"].remove(DEFAULT_PATH)  # these tests read the Env their instructions make
    for inst in df.instructions[1:]:
        state.dispatch(inst)
    return state


def history(state: StageState) -> list[str]:
    return [h["created_by"] for h in state.history]


def test_a_base_without_path_gets_dockers_default_path() -> None:
    """As docker's builders (classic and BuildKit): PATH is added when the base sets none (scratch
    too), after the base's variables; a base's own PATH stays."""
    assert StageState.from_image(None, StageArgs(BuildArgs({}), {})).config["Env"] == [DEFAULT_PATH]
    imported = {"config": {"Env": ["A=1"]}}
    assert StageState.from_image(imported, StageArgs(BuildArgs({}), {})).config["Env"] == ["A=1", DEFAULT_PATH]
    own = {"config": {"Env": ["PATH=/opt/bin", "A=1"]}}
    assert StageState.from_image(own, StageArgs(BuildArgs({}), {})).config["Env"] == ["PATH=/opt/bin", "A=1"]


def test_env_uses_values_from_before_the_instruction() -> None:
    state = build("ENV a=1\nENV a=2 b=$a\nENV c=\"x y\" d=${a}\n")
    assert state.config["Env"] == ["a=2", "b=1", "c=x y", "d=2"]
    assert history(state)[1] == "/bin/sh -c #(nop)  ENV a=2 b=1"


def test_env_replaces_in_place_and_keeps_base_env() -> None:
    state = build("ENV PATH=/x:$PATH\n", base={"config": {"Env": ["PATH=/bin", "HOME=/root"]}})
    assert state.config["Env"] == ["PATH=/x:/bin", "HOME=/root"]


def test_legacy_env() -> None:
    assert build("ENV k v  w\n").config["Env"] == ["k=v  w"]


def test_label_merges_with_base() -> None:
    state = build('LABEL a=1 "b c"="d e"\n', base={"config": {"Labels": {"z": "0"}}})
    assert state.config["Labels"] == {"z": "0", "a": "1", "b c": "d e"}
    assert history(state) == ['/bin/sh -c #(nop)  LABEL a=1 b c=d e']


def test_arg_defaults_build_args_and_history() -> None:
    state = build("ARG A=1 B\nARG C=$A-x\nENV e=$A$B$C\n", build_args={"B": "b"})
    assert state.config["Env"] == ["e=1b1-x"]
    assert history(state)[:2] == ["/bin/sh -c #(nop)  ARG A=1 B", "/bin/sh -c #(nop)  ARG C=1-x"]
    assert "A" not in state.env()


def test_workdir_relative_and_expanded() -> None:
    state = build("ENV D=srv\nWORKDIR /$D\nWORKDIR app/../api\n")
    assert state.config["WorkingDir"] == "/srv/api"
    assert history(state)[-1] == "/bin/sh -c #(nop) WORKDIR /srv/api"  # one space, as docker's


def test_user_expose_volume_stopsignal() -> None:
    state = build("ARG U=app\nUSER $U:grp\nEXPOSE 80 53/udp 8000-8002/tcp\n"
                  'VOLUME ["/data"]\nVOLUME /a /b\nSTOPSIGNAL SIGINT\n')
    config = state.config
    assert config["User"] == "app:grp"
    assert config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}, "8002/tcp": {}}
    assert config["Volumes"] == {"/data": {}, "/a": {}, "/b": {}}
    assert config["StopSignal"] == "SIGINT"
    assert "/bin/sh -c #(nop)  VOLUME [/a /b]" in history(state)
    assert "/bin/sh -c #(nop)  EXPOSE 53/udp 80 8000-8002/tcp" in history(state)  # sorted, as docker's


@pytest.mark.parametrize("word", ["http", "0", "70000", "90-80", "80/xyz", "1:80"])
def test_bad_ports(word: str) -> None:
    with pytest.raises(BuildError):
        parse_ports(word)


def test_cmd_shell_and_exec_forms() -> None:
    state = build('CMD echo "$HOME"\n')
    assert state.config["Cmd"] == ["/bin/sh", "-c", 'echo "$HOME"']
    assert history(state) == ['/bin/sh -c #(nop)  CMD ["/bin/sh" "-c" "echo \\"$HOME\\""]']


def test_entrypoint_resets_inherited_cmd() -> None:
    state = build('ENTRYPOINT ["/init"]\n', base={"config": {"Cmd": ["sh"]}})
    assert state.config["Entrypoint"] == ["/init"] and state.config["Cmd"] is None


def test_entrypoint_after_cmd_in_same_stage_keeps_cmd() -> None:
    state = build('CMD ["serve"]\nENTRYPOINT ["/init"]\n', base={"config": {"Cmd": ["sh"]}})
    assert state.config["Cmd"] == ["serve"]


def test_shell_changes_later_shell_forms_and_history() -> None:
    state = build('SHELL ["/bin/bash", "-euc"]\nCMD run\n')
    assert state.config["Cmd"] == ["/bin/bash", "-euc", "run"]
    assert history(state) == ["/bin/bash -euc #(nop)  SHELL [/bin/bash -euc]",
                              '/bin/bash -euc #(nop)  CMD ["/bin/bash" "-euc" "run"]']


def test_healthcheck() -> None:
    state = build("HEALTHCHECK --interval=1m30s --timeout=3s --start-period=500ms "
                  "--start-interval=1s --retries=3 CMD curl -f http://localhost/\n")
    assert state.config["Healthcheck"] == {
        "Test": ["CMD-SHELL", "curl -f http://localhost/"], "Interval": 90 * 10**9,
        "Timeout": 3 * 10**9, "StartPeriod": 500 * 10**6, "StartInterval": 10**9, "Retries": 3}
    assert history(state) == ['/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "curl -f http://localhost/"] '
                              '"1m30s" "3s" "500ms" "1s" \'\\x03\'}']
    assert build('HEALTHCHECK CMD ["true"]\n').config["Healthcheck"] == {"Test": ["CMD", "true"]}
    assert build("HEALTHCHECK NONE\n").config["Healthcheck"] == {"Test": ["NONE"]}


@pytest.mark.parametrize("flags", ["--interval=5", "--timeout=1us", "--retries=-1", "--retries=x"])
def test_healthcheck_bad_flags(flags: str) -> None:
    with pytest.raises(BuildError) as info:
        build(f"HEALTHCHECK {flags} CMD true\n")
    assert info.value.location.line == 2


def test_onbuild_and_maintainer() -> None:
    state = build("ONBUILD RUN make\nONBUILD COPY . /src\nMAINTAINER me <me@x>\n")
    assert state.config["OnBuild"] == ["RUN make", "COPY . /src"]
    assert state.image_config()["author"] == "me <me@x>"
    triggers = onbuild_triggers(state.image_config())
    assert [t.keyword for t in triggers] == ["RUN", "COPY"]
    child = StageState.from_image(state.image_config(), StageArgs(BuildArgs(), {}))
    assert "OnBuild" not in child.config


def test_history_is_kept_from_the_base() -> None:
    base = {"config": {}, "history": [{"created_by": "base"}]}
    assert history(build("USER u\n", base=base)) == ["base", "/bin/sh -c #(nop)  USER u"]
    assert all(h.get("empty_layer") for h in build("USER u\n").history)


def test_bad_stopsignal_and_empty_volume() -> None:
    with pytest.raises(BuildError, match="invalid signal"):
        build("STOPSIGNAL sig term\n".replace("sig term", "'a b'"))
    with pytest.raises(BuildError, match="empty string"):
        build('VOLUME [""]\n')


def test_run_argv_and_history() -> None:
    df = parse("FROM x\nARG V=1\nRUN echo $V\nRUN [\"/bin/true\"]\nRUN <<EOF\necho hi\nEOF\n")
    state = StageState.from_image(None, StageArgs(BuildArgs({}), {}))
    state.dispatch(df.instructions[1])
    shell_run, exec_run, heredoc_run = df.instructions[2:]
    assert state.run_argv(shell_run) == ["/bin/sh", "-c", "echo $V"]
    assert state.run_argv(exec_run) == ["/bin/true"]
    assert state.run_argv(heredoc_run) == ["/bin/sh", "-c", "echo hi\n"]
    assert state.run_history(shell_run) == "RUN |1 V=1 /bin/sh -c echo $V"


def test_copy_history() -> None:
    assert copy_history(["/bin/sh", "-c"], "COPY", "sha256:ab", "/app", directory=True) == \
        "/bin/sh -c #(nop) COPY dir:ab in /app "


def test_step_text_expands_copy_destination_and_flags() -> None:
    df = parse("FROM x\nARG D=/app\nCOPY --chown=$D a $D/\nUSER u\n")
    state = StageState.from_image(None, StageArgs(BuildArgs({}), {}))
    state.dispatch(df.instructions[1])
    assert step_text(state, df.instructions[2]) == "COPY --chown=/app /app/"
    assert step_text(state, df.instructions[3]) == "/bin/sh -c #(nop)  USER u"
    assert "User" not in state.config


def test_parse_mount() -> None:
    assert parse_mount("type=cache,target=/root/.cache,from=base,sharing=locked") == {
        "type": "cache", "target": "/root/.cache", "from": "base", "sharing": "locked"}
    assert parse_mount("target=/src,ro")["type"] == "bind"
    assert parse_mount("type=secret,id=token")["id"] == "token"
    with pytest.raises(BuildError, match="unsupported mount type"):
        parse_mount("type=volume,target=/x")
    with pytest.raises(BuildError, match="no target"):
        parse_mount("type=cache")


def test_copy_heredoc_expansion() -> None:
    df = parse("FROM x\nARG N=world\nCOPY <<EOF <<'RAW' /d/\nhi $N \"q\" \\$N\nEOF\n$N\nRAW\n")
    state = StageState.from_image(None, StageArgs(BuildArgs({}), {}))
    state.dispatch(df.instructions[1])
    expanded, raw = df.instructions[2].heredocs
    assert state.heredoc_text(expanded) == 'hi world "q" $N\n'
    assert state.heredoc_text(raw) == "$N\n"


def test_checksum() -> None:
    assert check_checksum("sha256:" + "A" * 64) == "sha256:" + "a" * 64
    for bad in ("md5:abc", "sha256:xyz", "sha256:" + "a" * 63):
        with pytest.raises(BuildError, match="invalid checksum"):
            check_checksum(bad)


def test_step_text_has_no_side_effects() -> None:
    df = parse("FROM x\nARG A=1\nONBUILD RUN x\n")
    state = StageState.from_image(None, StageArgs(BuildArgs({}), {}))
    assert step_text(state, df.instructions[1]) == "/bin/sh -c #(nop)  ARG A=1"
    assert step_text(state, df.instructions[2]) == "/bin/sh -c #(nop)  ONBUILD RUN x"
    assert state.args.values == {} and state.config == {"Env": [DEFAULT_PATH]} and state.history == []


def test_chmod_chown_and_add_sources() -> None:
    assert parse_chmod("0755") == 0o755 and parse_chmod("644") == 0o644
    for bad in ("u+x", "8", "77777", ""):
        with pytest.raises(BuildError, match="invalid --chmod"):
            parse_chmod(bad)
    assert split_chown("app") == ("app", None) and split_chown("1000:1000") == ("1000", "1000")
    for bad in (":", "a:", ":g"):
        with pytest.raises(BuildError, match="invalid --chown"):
            split_chown(bad)
    assert add_source_kind("https://example.com/a.tar.gz") == "url"
    assert add_source_kind("https://github.com/moby/buildkit.git#v0.10.1") == "git"
    assert add_source_kind("git@github.com:moby/buildkit.git") == "git"
    assert add_source_kind("app.tar.gz") == "local"


@pytest.mark.parametrize("line, key, expanded", [
    ("USER $V", "User", "9"), ("WORKDIR /$V", "WorkingDir", "/9"), ("STOPSIGNAL $V", "StopSignal", "9"),
    ("EXPOSE $V", "ExposedPorts", {"9/tcp": {}}), ("VOLUME /$V", "Volumes", {"/9": {}}),
    ("LABEL l=$V", "Labels", {"l": "9"}), ("ENV e=$V", "Env", ["e=9"]),
    ("CMD echo $V", "Cmd", ["/bin/sh", "-c", "echo $V"]), ("ENTRYPOINT [\"$V\"]", "Entrypoint", ["$V"]),
    ("HEALTHCHECK CMD $V", "Healthcheck", {"Test": ["CMD-SHELL", "$V"]}),
    ("ONBUILD RUN $V", "OnBuild", ["RUN $V"]), ('SHELL ["$V"]', "Shell", ["$V"]),
])
def test_which_instructions_expand(line: str, key: str, expanded: object) -> None:
    from composer.engine.build.expand import EXPANDING
    state = build(f"ARG V=9\n{line}\n")
    assert state.config[key] == expanded
    assert (line.split()[0] in EXPANDING) == ("$V" not in repr(expanded))
