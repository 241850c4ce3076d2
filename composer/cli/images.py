"""`composer image ...`, `composer login` and `composer logout` (docker's names, flags and output)."""

from __future__ import annotations

import sys

from composer.errors import ImageError, UsageError
from composer.units import human_size  # noqa: F401 - this module's callers import it from here

TYPE_CHECKING = False  # typing is not imported on the `image pull` fast path
if TYPE_CHECKING:
    from typing import Any, Callable

    import typer


def _echo(text: str = "", err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout)


def not_found_as_daemon(function: "Callable[..., Any]") -> "Callable[..., Any]":
    """``function`` (a typer command) with a missing image reported as docker's daemon does
    (``Error response from daemon: No such image: nope:latest``, exit 1)."""
    import functools

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from composer.errors import ImageNotFound

        try:
            return function(*args, **kwargs)
        except ImageNotFound as error:
            _echo(image_error_text(error), err=True)
            raise SystemExit(1) from None
    return wrapper


def image_error_text(error: ImageError) -> str:
    """One failed image's line: docker's daemon wording for a missing one, else ``Error: ...``."""
    from composer.errors import ImageNotFound

    return f"Error response from daemon: {error.message}" if isinstance(error, ImageNotFound) else f"Error: {error}"


def _store():
    from composer.engine.images.store import ImageStore

    return ImageStore()


def register(app: typer.Typer) -> None:
    """Add the ``image`` group plus ``login``/``logout`` to ``app``."""
    import typer

    image = typer.Typer(help="Manage images.", no_args_is_help=True)
    app.add_typer(image, name="image")
    _register_listing(image)
    _register_housekeeping(image)
    from composer.cli.image_transfer import register_transfer

    register_transfer(image)
    _register_files(image)
    from composer.cli.build import register_image_build

    register_image_build(image)
    _register_login(app)


def _register_listing(image: typer.Typer) -> None:
    import typer

    @image.command("ls")
    def ls(repository: str | None = typer.Argument(None, metavar="[REPOSITORY[:TAG]]"),
           all_: bool = typer.Option(False, "-a", "--all", help="Show all images."),
           quiet: bool = typer.Option(False, "-q", "--quiet", help="Only show image IDs."),
           no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate output."),
           digests: bool = typer.Option(False, "--digests", help="Show digests."),
           format_: str | None = typer.Option(None, "--format", help="table, json or a Go template."),
           filters: list[str] | None = typer.Option(None, "-f", "--filter",
                                                    help="before=, since=, dangling=, label=, reference=")) -> None:
        """List images."""
        code = list_images_command(repository, quiet, no_trunc, digests, format_, filters or [], all_)
        if code:
            raise typer.Exit(code)

    image.command("list", hidden=True)(ls)

    @image.command("inspect")
    def inspect(images: list[str] = typer.Argument(..., help="Images to inspect."),
                format_: str | None = typer.Option(None, "-f", "--format", help="A Go template."),
                platform: str | None = typer.Option(None, "--platform", help=PLATFORM_HELP)) -> None:
        """Display detailed information on one or more images."""
        code = inspect_images_command(images, format_, platform)
        if code:
            raise typer.Exit(code)

    @image.command("history")
    def history(reference: str | None = typer.Argument(None, metavar="IMAGE"),
                human: str = typer.Option("true", "-H", "--human", is_flag=False, flag_value="true",
                                          help="Human readable sizes and dates (-H=false: raw)."),
                no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate output."),
                quiet: bool = typer.Option(False, "-q", "--quiet", help="Only show image IDs."),
                format_: str | None = typer.Option(None, "--format", help="table, json or a Go template."),
                platform: str | None = typer.Option(None, "--platform", help=PLATFORM_HELP)) -> None:
        """Show the history of an image."""
        from composer.gobool import GO_BOOLS

        readable = human.lstrip("=")
        if reference is None and readable not in GO_BOOLS:
            reference, readable = human, "true"  # `-H IMAGE`: -H is docker's bool flag
        if reference is None:
            from composer.cli.dockerusage import arity_error

            raise arity_error("image history")
        if readable not in GO_BOOLS:
            from composer.cli.render import invalid_value, refusal

            raise refusal(invalid_value("-H, --human", readable, "bool"), "composer image history")
        history_command(reference, GO_BOOLS[readable], no_trunc, quiet, format_, platform)


@not_found_as_daemon
def history_command(reference: str, human: bool, no_trunc: bool, quiet: bool, format_: str | None,
                    platform: str | None) -> int:
    """``image history``: the image's layers, newest first (ids, a table, JSON or a template)."""
    from composer.engine.images.catalog import history as image_history

    _check_platform(_store(), reference, platform)
    rows = image_history(_store(), reference)
    short = (lambda v: v) if no_trunc else (lambda v: v if v == "<missing>" else v[7:19])
    if quiet:
        for row in rows:
            _echo(short(row["id"]))
        return 0
    records = [_history_record(row, short(row["id"]), human, no_trunc) for row in rows]
    _output(records, format_, ["ID", "CreatedSince" if human else "CreatedAt", "CreatedBy", "Size", "Comment"],
            {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY"},
            "*image.historyContext")
    return 0


def _history_record(row: dict[str, Any], image_id: str, human: bool, no_trunc: bool) -> dict[str, str]:
    """One ``image history`` row with docker's fields (what ``--format json`` prints)."""
    from datetime import timezone

    from composer.engine.images.catalog import created_at

    created = created_at(row["created"]).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    created_by = row["created_by"].replace("\t", " ")
    return {"Comment": row["comment"], "CreatedAt": created,
            "CreatedBy": created_by if no_trunc else _ellipsis(created_by, 45),
            "CreatedSince": human_duration(row["created"]) if human else created, "ID": image_id,
            "Size": human_size(row["size"]) if human else str(row["size"])}


def _register_housekeeping(image: typer.Typer) -> None:
    import typer

    @image.command("tag")
    @not_found_as_daemon
    def tag(source: str = typer.Argument(..., metavar="SOURCE_IMAGE[:TAG]"),
            target: str = typer.Argument(..., metavar="TARGET_IMAGE[:TAG]")) -> None:
        """Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE."""
        from composer.engine.images.catalog import tag as tag_image
        from composer.engine.images.reference import parse_reference
        from composer.errors import FlagError

        try:  # docker's CLI parses the new name first: its line alone
            parse_reference(target)
        except ImageError as error:
            raise FlagError(f"Error parsing reference: {error.message}", exit_code=1) from None
        tag_image(_store(), source, target)

    @image.command("rm")
    def rm(images: list[str] = typer.Argument(..., help="Images to remove."),
           force: bool = typer.Option(False, "-f", "--force", help="Force removal of the image."),
           no_prune: bool = typer.Option(False, "--no-prune", help="Do not delete untagged parents."),
           platform: str | None = typer.Option(None, "--platform", help=PLATFORM_HELP)) -> None:
        """Remove one or more images."""
        from composer.engine.images.catalog import container_usage, gc, remove
        from composer.errors import ImageNotFound

        store, failed, usage = _store(), False, container_usage()  # one scan of the containers
        deleted = False
        for reference in images:
            try:
                _check_platform(store, reference, platform)
                for action, what in remove(store, reference, force, usage, prune=not no_prune):
                    typer.echo(f"{action}: {what}")
                    deleted = deleted or action == "Deleted"
            except ImageError as error:  # all dockerd's refusals; -f: a missing image is no failure
                typer.echo(f"Error response from daemon: {error.message}", err=True)
                failed = failed or not (force and isinstance(error, ImageNotFound))
        if deleted:  # only untagged: every blob and snapshot is still some image's
            gc(store, usage.layers)
        if failed:
            raise typer.Exit(1)

    image.command("remove", hidden=True)(rm)

    @image.command("prune")
    def prune(all_: bool = typer.Option(False, "-a", "--all", help="Remove all unused images, not just dangling."),
              force: bool = typer.Option(False, "-f", "--force", help="Do not prompt for confirmation."),
              filters: list[str] | None = typer.Option(None, "--filter", help="until=, label=, label!=")) -> None:
        """Remove unused images."""
        from composer.cli.psformat import parse_filters
        from composer.cli.render import confirm
        from composer.engine.images.catalog import PRUNE_FILTERS
        from composer.engine.images.catalog import prune as prune_images

        wanted = parse_filters(filters or [], PRUNE_FILTERS, {})

        what = "all images without at least one container associated to them" if all_ else "all dangling images"
        if not confirm(f"This will remove {what}.", force):
            return
        from composer.engine.build.leftovers import remove_killed_builds

        store = _store()
        remove_killed_builds(store.root / "tmp")  # their step containers hold no image, their scratch no name
        lines, freed = prune_images(store, all_, wanted)
        if lines:
            typer.echo("Deleted Images:")
            for action, what in lines:
                typer.echo(f"{action.lower()}: {what}")
            typer.echo("")
        typer.echo(f"Total reclaimed space: {_size4(freed)}")


PLATFORM_HELP = "os/arch[/variant]: the image must be of that platform (composer keeps one per image)."


def list_images_command(repository: str | None, quiet: bool, no_trunc: bool, digests: bool,
                        format_: str | None, filters: list[str], all_: bool = False) -> int:
    """``image ls`` (typer's and the fast path's); 1 after docker's line for a missing image
    named by a before=/since= filter. Without ``-a``, an untagged parent of a committed image is
    left out (docker's intermediate image)."""
    from composer.cli.psformat import parse_filters
    from composer.engine.images.catalog import FILTERS, filter_images, list_images
    from composer.errors import ImageNotFound

    wanted = parse_filters([*filters, *([f"reference={repository}"] if repository else [])], FILTERS, {},
                           "image ls")
    store = _store()
    try:
        rows = filter_images(store, list_images(store, intermediate=all_), wanted)
    except ImageNotFound as error:
        _echo(image_error_text(error), err=True)
        return 1
    ids = [row.id if no_trunc else row.id[7:19] for row in rows]
    if quiet:
        sys.stdout.write("".join(image_id + "\n" for image_id in ids))
        return 0
    records = [_summary_record(image_id, row) for image_id, row in zip(ids, rows)]
    columns = ["Repository", "Tag"] + (["Digest"] if digests else []) + ["ID", "CreatedSince", "Size"]
    _output(records, format_, columns, {"ID": "IMAGE ID", "CreatedSince": "CREATED"}, "*formatter.imageContext")
    return 0


def inspect_images_command(images: list[str], format_: str | None, platform: str | None) -> int:
    """``image inspect``: docker's JSON array (or a template's line each); 1 when one is missing."""
    from composer.engine.images.catalog import inspect_image

    store = _store()
    documents, missing = [], []
    for reference in images:
        try:
            _check_platform(store, reference, platform)
            documents.append(inspect_image(store, reference))
        except ImageError as error:
            missing.append(error)
    code = 0
    if format_:
        from composer.cli.render import print_templated

        if (code := print_templated(format_, documents, prepare=inspect_template_data)) == 64:
            return code
    else:
        from composer.cli.gotemplate import go_json

        _echo(go_json(documents, indent=4, escape_html=False))  # dockerd's JSON
    for error in missing:
        _echo(image_error_text(error), err=True)
    return 1 if missing or code else 0


def _check_platform(store: Any, reference: str, platform: str | None) -> None:
    """``--platform``'s check (``pull``'s module, and its registry client, imported only then)."""
    if platform:
        from composer.engine.images.pull import check_platform

        check_platform(store, reference, platform)


def _summary_record(image_id: str, row: Any) -> dict[str, str]:
    """One ``image ls`` row with docker's fields (what ``--format json`` prints)."""
    from datetime import timezone

    from composer.engine.images.catalog import created_at

    created = created_at(row.created).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")
    return {"Containers": "N/A", "CreatedAt": created,
            "CreatedSince": human_duration(row.created), "Digest": row.digest, "ID": image_id,
            "Repository": row.repository, "SharedSize": "N/A", "Size": human_size(row.size), "Tag": row.tag,
            "UniqueSize": "N/A", "VirtualSize": _size4(row.size)}


def _size4(size: int) -> str:
    """docker's ``units.HumanSize``: 4 significant digits (``1.982MB``; ``image ls`` Size has 3)."""
    from composer.units import DECIMAL_UNITS, custom_size

    return custom_size(size, 1000.0, DECIMAL_UNITS, 4)


def _ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _output(records: list[dict[str, str]], format_: str | None, columns: list[str], headers: dict[str, str],
            context: str = "") -> None:
    if format_ == "json":
        from composer.cli.gotemplate import go_json

        for record in records:
            _echo(go_json(record))
    elif format_ and format_ != "table":  # a Go template (``table TEMPLATE``: docker's titles first)
        from composer.cli.psformat import render

        titles = {"CreatedAt": "CREATED AT", "VirtualSize": "SIZE", "SharedSize": "SHARED SIZE",
                  "UniqueSize": "UNIQUE SIZE", **{column: headers.get(column, column.upper()) for column in columns}}
        for line in render(records, format_, titles, True, context):
            _echo(line)
    else:
        print_table(records, columns, headers)


def fast_pull(argv: list[str]) -> int | None:
    """The ``image pull`` FAST_PATHS entry (``composer.cli.image_transfer``)."""
    from composer.cli.image_transfer import fast_pull as pull_without_typer

    return pull_without_typer(argv)


def _register_files(image: typer.Typer) -> None:
    import typer

    @image.command("save")
    @not_found_as_daemon
    def save(images: list[str] = typer.Argument(..., help="Images to save."),
             output: str | None = typer.Option(None, "-o", "--output", help="Write to a file, not STDOUT."),
             platform: str | None = typer.Option(None, "--platform", help=PLATFORM_HELP)) -> None:
        """Save one or more images to a tar archive (streamed to STDOUT by default)."""
        from composer.engine.images.archive import save as save_images

        for reference in images:  # (each image has one platform here: it is that one, or an error)
            _check_platform(_store(), reference, platform)
        if output is None and sys.stdout.isatty():
            raise UsageError("cowardly refusing to save to a terminal", hint="use the -o flag or redirect")
        _write_output(output, lambda stream: save_images(_store(), images, stream))

    @image.command("load")
    def load(input_: str | None = typer.Option(None, "-i", "--input", help="Read from a tar archive file."),
             quiet: bool = typer.Option(False, "-q", "--quiet", help="Suppress the load output.")) -> None:
        """Load an image from a tar archive or STDIN."""
        from composer.engine.images.load import load as load_images

        with _open_input(input_) as stream:
            loaded = load_images(_store(), stream)
        from composer.engine.images.reference import parse_reference

        for image in loaded:
            for name in image.names:
                typer.echo(f"Loaded image: {parse_reference(name).familiar()}")
            if not image.names:
                typer.echo(f"Loaded image ID: {image.image_id}")

    @image.command("import")
    def import_(source: str = typer.Argument(..., metavar="file|URL|-"),
                reference: str | None = typer.Argument(None, metavar="[REPOSITORY[:TAG]]"),
                change: list[str] | None = typer.Option(None, "-c", "--change", help="Apply a Dockerfile instruction."),
                message: str = typer.Option("", "-m", "--message", help="Commit message for the imported image."),
                platform: str | None = typer.Option(None, "--platform", help="Ignored: the host's platform.")) -> None:
        """Import the contents from a tarball to create a filesystem image."""
        from composer.engine.images.archive import import_rootfs

        url = source.startswith(("http://", "https://"))  # docker's test: anything else is a file
        opener = _open_url if url else _open_input
        with opener(None if source == "-" else source) as stream:
            comment = message or f"Imported from {source if url else '-'}"
            image_id = import_rootfs(_store(), stream, reference, change or [], comment)
        typer.echo(image_id)


def _open_input(path: str | None):
    if path is None:
        return open(sys.stdin.fileno(), "rb", closefd=False)
    try:
        return open(path, "rb")
    except OSError as error:
        raise ImageError(f"cannot open {path}: {error.strerror}") from None


def _open_url(url: str):
    """The response of a GET of ``url`` (a stream), or a clear ImageError."""
    import urllib.error
    import urllib.request

    try:
        return urllib.request.urlopen(url, timeout=30)
    except urllib.error.HTTPError as error:
        raise ImageError(f"cannot download {url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ImageError(f"cannot download {url}: {getattr(error, 'reason', error)}") from None


def _write_output(path: str | None, write) -> None:
    """Write to ``path`` atomically (or to stdout); nothing is left behind on failure."""
    if path is None:
        with open(sys.stdout.fileno(), "wb", closefd=False) as stream:
            write(stream)
        return
    import os

    partial = f"{path}.partial-{os.getpid()}"
    try:
        with open(partial, "wb") as stream:
            write(stream)
        os.replace(partial, path)
    except OSError as error:
        raise ImageError(f"cannot write {path}: {error.strerror}") from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def _register_login(app: typer.Typer) -> None:
    import typer

    @app.command("login")
    def login(server: str | None = typer.Argument(None, metavar="[SERVER]"),
              username: str | None = typer.Option(None, "-u", "--username", help="Username."),
              password: str | None = typer.Option(None, "-p", "--password", help="Password."),
              password_stdin: bool = typer.Option(False, "--password-stdin", help="Take the password from stdin.")) -> None:
        """Log in to a registry (credentials go to ~/.docker/config.json)."""
        from composer.engine.images import auth
        from composer.engine.images.registry import RegistryClient

        domain = _registry_domain(server)
        if password is not None and not password_stdin:
            typer.echo("WARNING! Using --password via the CLI is insecure. Use --password-stdin.", err=True)
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        username = username or typer.prompt("Username")
        password = password if password is not None else typer.prompt("Password", hide_input=True)
        credentials = auth.Credentials(username, password)
        with RegistryClient(domain, credentials=credentials) as client:
            client.login()
        path = auth.store(domain, credentials)
        if auth.kept_in_file(domain, path):
            typer.echo(f"WARNING! Your credentials are stored unencrypted in '{path}'.\n"
                       "Configure a credential helper to remove this warning. See\n"
                       "https://docs.docker.com/go/credential-store/\n", err=True)
        typer.echo("Login Succeeded")

    @app.command("logout")
    def logout(server: str | None = typer.Argument(None, metavar="[SERVER]")) -> None:
        """Log out from a registry."""
        from composer.engine.images import auth

        domain = _registry_domain(server)
        auth.remove(domain)
        typer.echo(f"Removing login credentials for {auth.config_key(domain)}")  # docker's line either way


def _registry_domain(server: str | None) -> str:
    if not server:
        return "docker.io"
    domain = server.split("://", 1)[-1].split("/", 1)[0]
    return "docker.io" if domain in ("index.docker.io", "registry-1.docker.io") else domain


# --- presentation -----------------------------------------------------------------------------
def human_duration(created: str) -> str:
    """``2 months ago`` for an RFC 3339 time, as docker words it."""
    from datetime import datetime, timezone

    from composer import units

    if not created:
        return "N/A"
    try:
        then = datetime.fromisoformat(created)
    except ValueError:
        return created
    seconds = (datetime.now(timezone.utc) - then).total_seconds()
    return units.human_duration(seconds) + " ago"


NIL_LISTS = frozenset({"Cmd", "Entrypoint", "Env", "OnBuild", "Shell"})
NIL_MAPS = frozenset({"Labels", "Volumes", "ExposedPorts"})
STRUCT_DEFAULTS = {"ExposedPorts": None, "Shell": None, "Healthcheck": None, "StopSignal": "", "ArgsEscaped": False}


def render_inspect(template: str, document: dict[str, Any]) -> str:
    """``image inspect --format``: Go's template on docker's struct (``inspect_template_data``;
    a field the struct lacks is an error)."""
    from composer.cli import gotemplate

    return gotemplate.render(template, inspect_template_data(document), strict=True)


def inspect_template_data(document: dict[str, Any]) -> dict[str, Any]:
    """One ``image inspect`` document as docker's templates see it: nil slices print ``[]``,
    nil maps ``map[]``, both ``null`` to ``json``."""
    from composer.cli import gotemplate

    data = gotemplate.go_nils({"Variant": "", **document}, NIL_LISTS, NIL_MAPS)
    for key in ("Config", "ContainerConfig"):
        if isinstance(data.get(key), dict):
            data[key] = _OmitEmpty(data[key])
    return data


class _OmitEmpty(dict):
    """A config whose omitempty fields a template may still name (docker falls back to its struct)."""

    def get(self, key: Any, default: Any = None) -> Any:
        from composer.cli.gotemplate import go_nils

        if key not in self and key in STRUCT_DEFAULTS:
            return go_nils({key: STRUCT_DEFAULTS[key]}, NIL_LISTS, NIL_MAPS)[key]
        return super().get(key, default)


def print_table(records: list[dict[str, str]], columns: list[str], headers: dict[str, str]) -> None:
    """Columns padded like docker's tabwriter (cells at least 10 wide, three spaces between columns)."""
    from composer.cli.render import columns as aligned

    titles = [headers.get(column, column.upper()) for column in columns]
    for line in aligned([titles, *([record[column] for column in columns] for record in records)], 10, trim=True):
        _echo(line)
