"""Compose 2.40.3's behaviour of the lifecycle commands and of the fast flag parser (session 7,
docs/parity-compose.md), on the in-memory runtime: ``--dry-run`` does nothing, ``unpause`` of a
running container fails, ``rm -s`` stops before it asks, ``stats`` takes one SERVICE, pflag's
``--flag=BOOL``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from composer.cli import compose_fast as F
from composer.cli.compose_lifecycle import lifecycle_main
from composer.errors import FlagError
from tests.unit.test_compose_cli import cli  # noqa: F401 (the fixtures)
from tests.unit.test_parity_compose_cli import demo  # noqa: F401


def states(demo) -> list[str]:
    return sorted(line.split()[-1] for line in demo("ps", "-a", "--format", "{{.Name}} {{.State}}").stdout.split("\n")
                  if line)


def test_dry_run_plans_and_does_nothing(demo):
    assert demo("up", "-d", "web").exit_code == 0
    for argv in (("--dry-run", "stop"), ("stop", "--dry-run", "-t", "3"), ("kill", "--dry-run"),
                 ("--dry-run", "rm", "-fs"), ("restart", "--dry-run"), ("--dry-run", "down"), ("down", "--dry-run")):
        result = demo(*argv)
        assert result.exit_code == 0, (argv, result.output)
    assert demo("--dry-run", "stop").stderr == (" DRY-RUN MODE -  Container demo-web-1  Stopping\n"
                                               " DRY-RUN MODE -  Container demo-web-1  Stopped\n")
    assert demo("down", "--dry-run").stderr.splitlines()[2:] == [
        " DRY-RUN MODE -  Container demo-web-1  Removing", " DRY-RUN MODE -  Container demo-web-1  Removed",
        " DRY-RUN MODE -  Network demo_default  Removing", " DRY-RUN MODE -  Network demo_default  Removed"]
    assert demo("--dry-run", "restart").stderr.splitlines()[1] == " DRY-RUN MODE -  Container demo-web-1  Started"
    assert demo("--dry-run", "pause").stderr == " DRY-RUN MODE -  Container demo-web-1  Paused\n"
    assert demo("--dry-run", "up", "-d", "web").stderr == ""  # nothing to change: no line, as compose
    assert demo("--progress", "json", "--dry-run", "stop").stderr.splitlines()[0] == (
        '{"dry-run": true, "id": "Container demo-web-1", "status": "Stopping", "done": false}')
    assert states(demo) == ["running"]


def test_unpause_of_a_running_container_fails_as_docker(demo):
    assert demo("up", "-d", "web").exit_code == 0
    result = demo("unpause", "web")
    assert result.exit_code == 1 and "is not paused" in str(result.exception)
    assert result.exception.message.startswith("Error response from daemon: Container ")  # (its id)


def test_rm_stop_stops_before_the_question_and_asks_without_a_newline(demo):
    assert demo("up", "-d", "web").exit_code == 0
    result = demo("rm", "-s", "web")  # no stdin: the answer is no
    assert result.exit_code == 0 and result.stdout == "Going to remove demo-web-1"
    assert result.output.index("Stopped") < result.output.index("Going to remove")
    assert states(demo) == ["exited"]


def test_stats_takes_at_most_one_service(demo):
    result = demo("stats", "--no-stream", "web", "job")
    assert result.exit_code == 1 and str(result.exception) == "accepts at most 1 arg(s), received 2"


def test_restart_no_deps_and_an_int_timeout(demo):
    assert demo("up", "-d").exit_code == 0
    assert demo("restart", "--no-deps", "-t", "1", "web").exit_code == 0
    with pytest.raises(FlagError, match='invalid argument "1.5" for "-t, --timeout" flag: strconv.ParseInt'):
        lifecycle_main("stop")(["-t", "1.5"])


def test_bool_values_as_pflag_parses_them():
    assert F._parse("exec", ["-i=false", "-T=1", "-u", "-i=true", "web", "-d=true"]) == (
        {"interactive": False, "no_TTY": True, "user": "-i=true"}, ["web", "-d=true"])  # -u's value kept
    assert F._parse("exec", ["--interactive=F", "web", "cat"]) == ({"interactive": False}, ["web", "cat"])
    assert F._parse("ps", ["web", "--all=True", "--", "-x"]) == ({"all": True}, ["web", "-x"])
    with pytest.raises(FlagError, match=r'^invalid argument "yes" for "-T, --no-tty" flag: strconv.ParseBool'):
        F._parse("exec", ["-T=yes", "web", "cat"])
    with pytest.raises(FlagError, match=r'for "--dry-run" flag'):
        F._parse("stop", ["--dry-run=2"])


def test_create_pull_and_run_in_dry_run_mode_do_nothing(demo):
    created = demo("create", "--dry-run", "web")
    assert created.exit_code == 0 and created.stderr.splitlines() == [
        " DRY-RUN MODE -  Network demo_default  Creating", " DRY-RUN MODE -  Network demo_default  Created",
        " DRY-RUN MODE -  Container demo-web-1  Creating", " DRY-RUN MODE -  Container demo-web-1  Created"]
    pulled = demo("--dry-run", "pull")
    assert pulled.exit_code == 0 and " DRY-RUN MODE -  Image busybox  Pulled" in pulled.stderr
    ran = demo("--dry-run", "run", "job")
    assert ran.exit_code == 1 and "no dry run mode" in str(ran.exception)
    for argv in (("ls", "--dry-run"), ("stats", "--dry-run", "--no-stream"), ("images", "--dry-run"),
                 ("top", "--dry-run")):
        assert demo(*argv).exit_code == 0, argv
    assert states(demo) == []


def test_up_and_create_flags_compose_has(demo):
    for argv in (("up", "-d", "--build", "--no-build"), ("create", "--no-build", "--build")):
        result = demo(*argv)
        assert result.exit_code == 1 and str(result.exception) == "--build and --no-build are incompatible"
    result = demo("create", "--force-recreate", "--no-recreate")
    assert result.exit_code == 1 and "incompatible" in str(result.exception)
    assert demo("up", "-d", "--quiet-pull", "--quiet-build", "--no-build", "--menu", "web").exit_code == 0
    assert demo("create", "--quiet-pull", "job").exit_code == 0
    assert str(demo("create", "--quiet-build", "job").exception) == "unknown flag: --quiet-build"  # (as compose)
    assert states(demo) == ["created", "running"]


def test_pull_policy_include_deps_and_ignore_buildable(demo):
    pulled = demo("pull", "--policy", "missing", "--include-deps", "--ignore-buildable", "web")
    assert pulled.exit_code == 0, pulled.output
    for policy, pulls in (("sometimes", True), ("always", True), ("missing", False), ("never", False)):
        result = demo("pull", "--policy", policy, "web")  # compose 2.40: an unknown policy pulls, as always
        assert result.exit_code == 0 and (" web Pulled " in result.stderr) is pulls, (policy, result.output)


def test_logs_index_needs_one_service_and_an_existing_container(demo):
    assert demo("up", "-d", "web").exit_code == 0
    for argv, message in ((("logs", "--index", "2"), "--index requires one service to be selected"),
                          (("logs", "--index", "1", "web", "job"), "--index requires one service to be selected"),
                          (("logs", "--index", "2", "web"), 'service "web" is not running container #2')):
        result = demo(*argv)
        assert result.exit_code == 1 and str(result.exception).startswith(message), argv


def test_config_models_and_dry_run(tmp_path, cli):
    """``config --models``: the ``model:`` of each model a service uses (compose drops unused ones)."""
    (tmp_path / "m.yaml").write_text("services:\n  web:\n    image: busybox\n    models: [llm]\n"
                                     "models:\n  llm:\n    model: ai/smollm2\n  unused:\n    model: x\n")
    for argv in (["-f", str(tmp_path / "m.yaml"), "config", "--models"],
                 ["-f", str(tmp_path / "m.yaml"), "config", "--dry-run", "--models"]):
        result = subprocess.run([sys.executable, "-m", "composer", *argv], capture_output=True, text=True, cwd=tmp_path)
        assert (result.returncode, result.stdout) == (0, "ai/smollm2\n"), result.stderr


def test_ls_runs_without_typer_with_compose_errors(state_root):
    probe = ("import sys; from composer.cli.main import run_fast_path; from composer.cli.render import run_guarded; "
             "code = run_guarded(lambda: run_fast_path(sys.argv[1:])); "
             "print('TYPER', 'typer' in sys.modules, code, file=sys.stderr)")
    for argv, code, stderr in ((["ls", "--all=1", "--format", "json"], "0", ""),
                               (["ls", "x"], "1", 'unknown command "x" for "composer ls"\n'),
                               (["ls", "--filter", "foo"], "1",
                                'invalid argument "foo" for "--filter" flag: bad format of filter '
                                '(expected name=value)\n')):
        result = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True)
        shown, _, tail = result.stderr.rpartition("TYPER ")
        assert (shown, tail.split()) == (stderr, ["False", code]), result.stderr


def test_compose_words_for_arguments_and_values(demo):
    for main, argv, count in ((F.exec_main, ["-T", "web"], 1), (F.exec_main, [], 0), (F.port_main, ["web"], 1)):
        with pytest.raises(FlagError, match=rf"^requires at least 2 arg\(s\), only received {count}$"):
            main(argv)
    for argv, message in ((("logs", "--since", "x", "web"),
                           'invalid value for "since": failed to parse value as time or duration: "x"'),
                          (("down", "--rmi", "bogus"), 'invalid value for --rmi: "bogus"'),
                          (("up", "-d", "--pull", "bogus"), 'invalid --pull option "bogus"'),
                          (("events", "--until", "y"), 'failed to parse value as time or duration: "y"')):
        result = demo(*argv)
        assert result.exit_code == 1 and result.exception.message == message, argv


def test_ps_template_is_compose_container_context(demo):
    assert demo("up", "-d", "web").exit_code == 0
    shown = demo("ps", "--format", '{{.Label "com.docker.compose.service"}} {{.Command}}')
    assert shown.stdout == 'web "sleep 1000"\n'
    refused = demo("ps", "--format", "{{.Bogus}}")
    assert refused.exit_code == 1 and "can't evaluate field Bogus" in refused.exception.message
    assert F._quoted_command('sh -c \'trap "exit 0" TERM\'', False) == '"sh -c \'trap \\"exit 0…"'
    assert F._quoted_command("é" * 3, False) == '"ééé"'


def test_scale_cp_and_push_in_dry_run_mode_only_say_what_they_would_do(demo, tmp_path):
    assert demo("up", "-d", "web").exit_code == 0
    scaled = demo("--dry-run", "scale", "web=2")
    assert scaled.exit_code == 0 and scaled.stderr.splitlines() == [
        " DRY-RUN MODE -  Container demo-web-2  Creating", " DRY-RUN MODE -  Container demo-web-2  Created",
        " DRY-RUN MODE -  Container demo-web-2  Starting", " DRY-RUN MODE -  Container demo-web-2  Started"]
    assert demo("scale", "--dry-run", "web=0").exit_code == 0
    assert states(demo) == ["running"]
    (tmp_path / "in.txt").write_text("x")
    copied = demo("--dry-run", "cp", str(tmp_path / "in.txt"), "web:/in.txt")
    assert copied.exit_code == 0 and copied.stderr.splitlines()[-1] == (
        f" DRY-RUN MODE -  demo-web-1 copy {tmp_path}/in.txt to demo-web-1:/in.txt Copied")
    out = demo("cp", "--dry-run", "web:/etc/hostname", str(tmp_path / "out"))
    assert out.exit_code == 0 and not (tmp_path / "out").exists()
    pushed = demo("--dry-run", "push", "web")
    assert (pushed.exit_code, pushed.stderr) == (0, " DRY-RUN MODE -  Service web  Skipped\n")


def test_build_and_push_in_dry_run_mode_build_and_push_nothing(tmp_path, state_root, monkeypatch):
    from typer.testing import CliRunner

    from composer.cli.app import build_app

    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    build: .\n    image: 127.0.0.1:9/app:1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMPOSER_RUNTIME", "fake")
    app = build_app(["composer.cli.compose", "composer.cli.build"])
    for argv in (["--dry-run", "build"], ["build", "--dry-run"]):
        built = CliRunner().invoke(app, ["-p", "b", *argv])
        assert (built.exit_code, built.stderr) == (0, " DRY-RUN MODE -  app ==> ==> naming to 127.0.0.1:9/app:1 \n"
                                                      " DRY-RUN MODE -  app  Built\n"), built.output
    pushed = CliRunner().invoke(app, ["-p", "b", "--progress", "plain", "--dry-run", "push"])
    assert (pushed.exit_code, pushed.stderr) == (0, " DRY-RUN MODE -  Image 127.0.0.1:9/app:1  Pushing\n"
                                                    " DRY-RUN MODE -  Image 127.0.0.1:9/app:1  Pushed\n")
    assert not (state_root / "images").exists() or "127.0.0.1" not in str(list((state_root / "images").rglob("*")))


def test_up_no_build_of_a_missing_image_fails_as_compose_and_builds_nothing(cli):
    from pathlib import Path

    Path("Dockerfile").write_text("FROM busybox\n")
    Path("compose.yaml").write_text("services:\n  app:\n    build: .\n")
    for argv in (("up", "-d", "--no-build"), ("create", "--no-build"), ("--dry-run", "up", "--no-build")):
        result = cli(*argv)
        assert result.exit_code == 1, argv
        assert result.exception.message == "Error response from daemon: No such image: demo-app", argv
    assert cli("ps", "-a", "-q").stdout == ""
    assert " DRY-RUN MODE -  Image demo-app  Building\n" in cli("--dry-run", "up", "-d").stderr  # (without it)


def test_kill_with_an_invalid_signal_is_dockerds_refusal_after_compose_lines(demo):
    assert demo("up", "-d", "web").exit_code == 0
    for signal, refusal in (("BOGUS", "Invalid signal: BOGUS"), ("0", "Invalid signal: 0"),
                            ("sigbogus", "Invalid signal: sigbogus"), ("65", "The linux daemon does not support signal 65")):
        result = demo("kill", "-s", signal, "web")
        assert result.exit_code == 1, signal
        assert result.exception.message == f"Error response from daemon: {refusal}"
        assert result.stderr == " Container demo-web-1  Killing\n Container demo-web-1  Error while Killing\n"
    assert demo("--dry-run", "kill", "-s", "BOGUS").exit_code == 1
    assert states(demo) == ["running"]
    assert demo("kill", "-s", "hup", "web").exit_code == 0 and demo("kill", "-s", "1").exit_code == 0


def test_ps_ports_as_the_docker_clis_displayable_ports():
    from composer.engine.runtime.adapter import exposed_only
    from composer.engine.runtime.base import ContainerSummary, PortSpec
    from composer.engine.status import ports_text

    published = (PortSpec(target=81, published="32768", host_ip="127.0.0.1"), PortSpec(target=8080, published="8080"),
                 PortSpec(target=8081, published="8081"))
    exposed = exposed_only({"80/tcp": {}, "81/tcp": {}, "90/udp": {}, "7000-7001/tcp": {}, "85/udp": {}}, published)
    assert [(p.target, p.protocol, p.published) for p in exposed] == [
        (80, "tcp", ""), (90, "udp", ""), (7000, "tcp", ""), (7001, "tcp", ""), (85, "udp", "")]
    container = ContainerSummary(id="x", name="p-web-1", image="busybox", state="running", ports=published + exposed)
    # docker: a range ends at a gap (listed first), open ranges by first appearance, then host mappings
    assert ports_text(container) == ("85/udp, 80/tcp, 7000-7001/tcp, 90/udp, 0.0.0.0:8080-8081->8080-8081/tcp, "
                                     "127.0.0.1:32768->81/tcp")
    assert ports_text(container._replace(state="exited")) == ""
    assert F.public_port(container, 80, "tcp") == ":0" and F.public_port(container, 8080, "tcp") == "0.0.0.0:8080"


def test_compose_commands_exit_1_for_every_error_and_docker_commands_keep_theirs(capsys):
    from composer.cli.main import find_command_words
    from composer.cli.render import is_compose_command, run_guarded
    from composer.errors import ContainerRuntimeError

    def refused() -> int:
        raise ContainerRuntimeError('exec: "x": executable file not found in $PATH', exit_code=127)

    assert run_guarded(refused, compose=True) == 1  # Compose: any error is 1
    assert run_guarded(refused) == 127  # docker run's code
    assert run_guarded(lambda: 3, compose=True) == 3  # a container's own code, returned
    assert 'error: exec: "x"' in capsys.readouterr().err
    words = {argv: is_compose_command(next(iter(find_command_words(list(argv))), None))
             for argv in (("up", "-d"), ("-p", "x", "start"), ("container", "start", "c"), ("update", "c"), ())}
    assert words == {("up", "-d"): True, ("-p", "x", "start"): True, ("container", "start", "c"): False,
                     ("update", "c"): False, (): True}


def test_docker_flags_take_bool_values_as_pflag():
    from composer.cli.network_fast import TABLES
    from composer.cli.run_flags import parse_interspersed, parse_run_args
    from composer.errors import UsageError

    assert parse_run_args(["--rm=t", "-i=false", "-d=1", "busybox"], "run")[0] == \
        {"rm": True, "interactive": False, "detach": True}
    assert parse_interspersed(["--ipv4=false", "--ipv6", "n"], TABLES["create"]) == ({"ipv4": False, "ipv6": True},
                                                                                     ["n"])
    for argv, names in ((["--rm=maybe", "busybox"], '"--rm"'), (["-i=maybe", "busybox"], '"-i, --interactive"')):
        with pytest.raises(UsageError) as refused:
            parse_run_args(argv, "run")
        assert refused.value.message == (f'invalid argument "maybe" for {names} flag: strconv.ParseBool: '
                                         'parsing "maybe": invalid syntax')


def test_up_and_down_fast_paths_take_bool_values():
    from composer.cli.compose import _DOWN_FLAGS, _DOWN_VALUED, _UP_FLAGS, _UP_VALUED, parse_simple

    assert parse_simple(["-d=true", "web"], _UP_FLAGS, _UP_VALUED) == ({"detach": True}, ["web"])
    assert parse_simple(["-v=f"], _DOWN_FLAGS, _DOWN_VALUED) == ({"volumes": False}, [])
    with pytest.raises(FlagError, match='invalid argument "maybe" for "-d, --detach" flag: strconv.ParseBool'):
        parse_simple(["--detach=maybe"], _UP_FLAGS, _UP_VALUED)


def test_ps_quotes_the_command_as_go_strconv_quote():
    """compose ps (table, json, template) cuts the command to 20 characters, then quotes it as Go's
    strconv.Quote: the inner double quotes escaped (``"sh -c 'trap \\"exit 0…"``)."""
    record = {"Name": "p-api-1", "Image": "busybox", "Command": '"sh -c \'trap "exit 0" TERM; wait\'"',
              "Service": "api", "RunningFor": "1 second ago", "Status": "Up 1 second", "Ports": ""}
    table = F._ps_lines([None], [record], "table", {})
    assert table[1].split("   ")[2] == '"sh -c \'trap \\"exit 0…"'
    assert json.loads(F._ps_lines([None], [record], "json", {})[0])["Command"] == '"sh -c \'trap \\"exit 0…"'
    whole = json.loads(F._ps_lines([None], [record], "json", {"no_trunc": True})[0])["Command"]
    assert whole == '"sh -c \'trap \\"exit 0\\" TERM; wait\'"'
