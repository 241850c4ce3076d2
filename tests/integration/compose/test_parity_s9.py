"""Compose parity of session 9 (docs/parity-compose.md "Session 9"), checked against Docker Compose
2.40.3 on dockerd 20.10: the start phase's dependency waits of a no-change ``up -d`` (planned and
answered from the settled record), ``start`` of a running project."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.root]

STACK = """
services:
  db:
    image: busybox
    command: ["sh", "-c", "touch /tmp/ready; {loop}"]
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ready"], interval: 300ms}
  init:
    image: busybox
    command: ["true"]
  api:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    depends_on: {db: {condition: service_healthy}}
  web:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    depends_on:
      init: {condition: service_completed_successfully}
      api: {condition: service_started}
"""


def shown(result) -> list[str]:
    return [line.strip() for line in result.stderr.splitlines()]


def test_a_no_change_up_waits_for_dependencies_and_restarts_the_one_shot(project):
    """As Compose: Running lines, the exited one-shot started again, db's and init's waits."""
    project.write(STACK)
    project("up", "-d")
    again = shown(project("up", "-d"))
    assert again[:3] == ["Container proj-db-1  Running", "Container proj-api-1  Running",
                         "Container proj-web-1  Running"]
    assert sorted(again[3:]) == sorted(f"Container proj-{name}  {word}" for name, word in (
        ("init-1", "Starting"), ("init-1", "Started"), ("init-1", "Waiting"), ("init-1", "Exited"),
        ("db-1", "Waiting"), ("db-1", "Healthy")))
    assert again.index("Container proj-init-1  Started") < again.index("Container proj-init-1  Waiting")
    project("rm", "-f", "init")  # everything runs: the settled record answers, with db's wait
    settled = [f"Container proj-{name}-1  {word}" for name, word in (
        ("db", "Running"), ("api", "Running"), ("web", "Running"), ("db", "Waiting"), ("db", "Healthy"))]
    project.write(STACK.replace("  init:\n    image: busybox\n    command: [\"true\"]\n", "").replace(
        "      init: {condition: service_completed_successfully}\n", ""))
    project("up", "-d")
    assert shown(project("up", "-d")) == settled
    assert shown(project("up", "-d")) == settled
    assert shown(project("start")) == ["Container proj-db-1  Waiting", "Container proj-db-1  Healthy"]


REFUSED = """
services:
  a:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    ports: ["127.0.0.1:18097:80"]
  b:
    image: busybox
    command: ["sh", "-c", "{loop}"]
    ports: ["127.0.0.1:18097:80"]
  noent:
    image: busybox
    entrypoint: ["/nosuch"]
  bind:
    image: busybox
    volumes: [{type: bind, source: /nonexistent/cparity, target: /x, bind: {create_host_path: false}}]
"""


def test_refused_starts_and_creates_say_what_compose_says(project):
    """A refused start: its Starting line, then the error once (exit 1), the container left
    created; a --mount bind of a missing source refuses the create: nothing is left."""
    project.write(REFUSED)
    project("up", "-d", "a")
    for service, words in (("b", "Bind for 127.0.0.1:18097 failed: port is already allocated"),
                           ("noent", 'exec: "/nosuch": stat /nosuch: no such file or directory')):
        result = project("up", "-d", service, ok=False)
        assert result.returncode == 1 and words in result.stderr
        last, error = shown(result)[-2:]
        assert last == f"Container proj-{service}-1  Starting" and error.startswith(f"error: {words}"), result.stderr
    bind = project("up", "-d", "bind", ok=False)
    refusal = 'invalid mount config for type "bind": bind source path does not exist: /nonexistent/cparity'
    assert bind.returncode == 1 and f"Container proj-bind-1  Error {refusal}" in shown(bind)
    assert sorted((row["Service"], row["State"]) for row in project.ps("-a")) == [
        ("a", "running"), ("b", "created"), ("noent", "created")]


def test_a_failed_one_off_run_ends_with_an_empty_line_and_exec_says_runc_words(project):
    """Compose 2.40: ``run`` and ``up --abort-on-container-exit`` ending with a non-zero code print
    an empty line on stderr last (their StatusError's); exec of a missing program: runc's words
    on stdout."""
    project.write(STACK)
    project("up", "-d", "db")
    failed = project("run", "--rm", "--no-deps", "-T", "db", "sh", "-c", "exit 3", ok=False)
    assert (failed.returncode, failed.stdout, failed.stderr) == (3, "", "\n")
    assert project("run", "--rm", "--no-deps", "-T", "db", "true").stderr == ""
    missing = project("exec", "-T", "db", "nosuchcmd", ok=False)
    assert (missing.returncode, missing.stdout) == (127, 'OCI runtime exec failed: exec failed: unable to start '
                                                         'container process: exec: "nosuchcmd": executable file not '
                                                         'found in $PATH: unknown\n')
    project.write(STACK.replace('command: ["true"]', 'command: ["sh", "-c", "exit 3"]'))
    aborted = project("up", "--abort-on-container-exit", "init", ok=False)
    assert aborted.returncode == 3 and aborted.stderr.endswith("Stopped\n\n"), aborted.stderr


def test_down_stops_a_service_once_its_dependents_are_removed(project):
    """Compose's down walks the services dependents first, stopping and removing each one's."""
    project.write(STACK)
    project("up", "-d")
    lines = shown(project("down", "-t", "1"))
    assert lines[:4] == [f"Container proj-web-1  {word}" for word in ("Stopping", "Stopped", "Removing", "Removed")]
    assert lines.index("Container proj-api-1  Removed") < lines.index("Container proj-db-1  Stopping")
