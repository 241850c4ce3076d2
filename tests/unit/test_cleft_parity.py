"""Small Compose/docker parity points: how a refused flag is answered, ids, port texts, orders."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("argv", "code", "stderr"), [
    (["ps", "--bogus"], 1, "unknown flag: --bogus\n"),  # Compose: the message alone, exit 1
    (["--bogus", "ps"], 1, "unknown flag: --bogus\n"),
    (["run", "--bogus"], 1, "unknown flag: --bogus\n"),
    (["down", "--bogus"], 1, "unknown flag: --bogus\n"),
    (["ps", "--format"], 1, "flag needs an argument: --format\n"),
    (["run"], 1, "requires at least 1 arg(s), only received 0\n"),
    # docker 28's CLI: the usage line, then where the help is
    (["container", "ls", "--bogus"], 125, "unknown flag: --bogus\n\nUsage:  composer container ls [OPTIONS]\n\n"
                                          "Run 'composer container ls --help' for more information\n"),
    (["container", "ps", "--bogus"], 125, "unknown flag: --bogus\n\nUsage:  composer container ls [OPTIONS]\n\n"
                                          "Run 'composer container ls --help' for more information\n"),
    (["container", "run", "--bogus"], 125, "unknown flag: --bogus\n\nUsage:  composer container run [OPTIONS] IMAGE "
                                           "[COMMAND] [ARG...]\n\nRun 'composer container run --help' for more "
                                           "information\n"),
    (["image", "ls", "--bogus"], 125, "unknown flag: --bogus\n\nUsage:  composer image ls [OPTIONS] [REPOSITORY[:TAG]]"
                                      "\n\nRun 'composer image ls --help' for more information\n"),
    (["image", "rm"], 1, "composer: 'composer image rm' requires at least 1 argument\n\nUsage:  composer image rm "
                         "[OPTIONS] IMAGE [IMAGE...]\n\nSee 'composer image rm --help' for more information\n"),
    (["image", "ls", "--filter"], 125, "flag needs an argument: --filter\n\nUsage:  composer image ls [OPTIONS] "
                                       "[REPOSITORY[:TAG]]\n\nRun 'composer image ls --help' for more information\n"),
    (["container", "ls", "-n", "abc"], 125, 'invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: '
                                            'parsing "abc": invalid syntax\n\nUsage:  composer container ls [OPTIONS]'
                                            "\n\nRun 'composer container ls --help' for more information\n"),
    (["container", "stop", "-t", "x", "c"], 125, 'invalid argument "x" for "-t, --timeout" flag: strconv.ParseInt: '
                                                 'parsing "x": invalid syntax\n\nUsage:  composer container stop '
                                                 "[OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'composer container stop "
                                                 "--help' for more information\n"),
    (["down", "-t", "x"], 1, 'invalid argument "x" for "-t, --timeout" flag: strconv.ParseInt: parsing "x": '
                             "invalid syntax\n"),
])
def test_a_refused_flag_is_answered_as_docker_and_compose(composer, state_root, argv, code, stderr):
    result = composer(*argv)
    assert (result.returncode, result.stderr) == (code, stderr)


def test_a_bad_flag_value_names_the_flag(composer, state_root):
    result = composer("up", "--wait-timeout", "abc")
    assert result.returncode == 1
    assert result.stderr == ('invalid argument "abc" for "--wait-timeout" flag: strconv.ParseInt: parsing "abc": '
                             'invalid syntax\n')


def test_ipv6_host_ports_are_bracketed_as_docker():
    from composer.cli.psformat import ports_text

    # (docker's DisplayablePorts: same-port bindings first, as groups; the others after)
    assert ports_text(["[::1]:8080:80", "127.0.0.1:81:81/udp"]) == "127.0.0.1:81->81/udp, [::1]:8080->80/tcp"


def test_down_s_network_in_use_and_a_failed_wait_are_compose_s_progress_lines():
    import io

    from composer.cli.progress import Progress
    from composer.engine.events import Event, Status

    stream = io.StringIO()
    with Progress("plain", stream) as progress:
        progress.event(Event("Project", "", Status.WARNING, text="Network demo_default: Resource is still in use"))
        progress.event(Event("Service", "bad", Status.ERROR, text="container demo-bad-1 exited (3)"))
        progress.event(Event("Container", "demo-web-1", Status.REMOVED))
    assert stream.getvalue() == (" Container demo-web-1  Removed\n Network demo_default  Removing\n"
                                 " Network demo_default  Resource is still in use\n")
    assert progress.warnings == ["Network demo_default: Resource is still in use"]


def test_no_interpolate_services_keep_the_dependency_order(composer, state_root, tmp_path):
    """Compose's ``config --no-interpolate --services`` walks a Go map (a different order each
    run; its ``--services`` walks the graph concurrently): composer prints one stable order for
    both, dependencies first, ties by name."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  zeta: {image: busybox, depends_on: [alpha]}\n  mid: {image: '${IMG:-busybox}'}\n"
        "  alpha: {image: busybox, depends_on: [beta]}\n  beta: {image: busybox}\n")
    plain = composer("config", "--services", cwd=tmp_path).stdout
    assert plain == "beta\nmid\nalpha\nzeta\n"
    assert composer("config", "--no-interpolate", "--services", cwd=tmp_path).stdout == plain
