"""A ``--format`` template is checked as docker's CLI checks it, before anything is looked up:
``inspect -f`` of nothing found still refuses a template that does not parse (exit 64), and
``container ls`` runs its template once on an empty row first (exit 1), containers or not."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _composer(*argv: str) -> subprocess.CompletedProcess:
    """The command line in its own process (fast paths end it with os._exit)."""
    return subprocess.run([sys.executable, "-m", "composer", *argv], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=60)


@pytest.mark.parametrize("group", ["container", "image", "network", "volume"])
def test_inspect_refuses_a_broken_template_before_the_lookup(state_root, group):
    done = _composer(group, "inspect", "-f", "{{", "nosuch")
    assert (done.returncode, done.stderr) == (64, "template parsing error: template: :1: unclosed action\n")


@pytest.mark.parametrize("template, line", [
    ("{{", "failed to parse template: template: :1: unclosed action"),
    ("{{.Nope}}", 'failed to execute template: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope '
                  "in type *formatter.ContainerContext"),
])
def test_container_ls_runs_its_template_first(state_root, template, line):
    done = _composer("container", "ls", "--format", template)
    assert (done.returncode, done.stderr) == (1, line + "\n")


def test_container_ls_of_nothing_prints_the_header_alone(state_root):
    done = _composer("container", "ls", "--format", "table {{.Names}}\t{{.Status}}")
    assert (done.returncode, done.stdout) == (0, "NAMES     STATUS\n")


def test_a_row_method_called_with_the_wrong_arguments_is_go_s_error():
    from composer.cli.gotemplate import TemplateError, render

    row = {"Label": lambda key: {"a": "b"}.get(key, "")}
    assert render('{{.Label "a"}}', row, True) == "b"
    for template, got in (("{{.Label}}", 0), ('x {{.Label "a" "b"}}', 2)):
        with pytest.raises(TemplateError) as refused:
            render(template, row, True)
        column = template.index(".Label")
        assert refused.value.message == (f'template: :1:{column}: executing "" at <.Label>: wrong number of args '
                                         f"for Label: want 1 got {got}")


@pytest.mark.parametrize("template", ["{{(}}", "{{split .N \",\"}}", '{{"\\x"}}'])
def test_templates_that_fail_fail_as_template_errors(template):
    """Never an exception of another kind (a traceback line, ``internal error``)."""
    from composer.cli.gotemplate import TemplateError, render

    with pytest.raises(TemplateError):
        render(template, {"N": 3}, True)


def test_name_filters_that_do_not_compile_match_nothing():
    """dockerd's ``name``/``id`` filters are Go regexps; one that does not compile selects nothing."""
    from composer.cli.psformat import regexp_search

    assert regexp_search("q.c", "aqxc") and not regexp_search("[", "[") and not regexp_search("x(", "x(")


@pytest.mark.parametrize("pattern", ["[", "[]", "[a-"])
def test_an_image_reference_pattern_go_refuses_is_dockerd_s_error(pattern):
    from composer.engine.images.catalog import _path_pattern
    from composer.errors import FilterError

    with pytest.raises(FilterError, match="^syntax error in pattern$"):
        _path_pattern(pattern)
    assert _path_pattern("b[ua]sy*").match("busybox") and not _path_pattern("busy*").match("busy/box")
