"""Reading YAML: values as plain dicts/lists plus a map of where each tree path came from.

Scalars are resolved the YAML 1.2 way (as Go's yaml.v3, which Compose uses): ``yes``/``on``
stay strings, ``010`` is ten. ``!reset`` and ``!override`` tags are recorded as paths, ``<<``
merge keys and anchors are expanded.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping

from composer.errors import SourceLocation, SpecSyntaxError

if TYPE_CHECKING:
    import yaml  # imported on the first parse: a project bound from the cache never pays for it

Path = tuple[str | int, ...]
Mark = tuple[str, int, int]  # file, 1-based line, 1-based column
Positions = dict[Path, Mark]
_PLAIN = "composer:plain"
_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)$")
_OCTAL = re.compile(r"[-+]?0[0-7_]+$")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
MAX_NODES = 250_000  # aliases are expanded: this stops "billion laughs" documents early


_LOADER: list[type] = []


def _loader(text: str) -> Any:
    """A safe loader of ``text`` that leaves plain scalars for :func:`resolve_plain`."""
    if not _LOADER:
        import yaml

        class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
            def resolve(self, kind: Any, value: Any, implicit: Any) -> str:  # noqa: D102
                if kind is yaml.ScalarNode and implicit[0]:
                    return _PLAIN
                return super().resolve(kind, value, implicit)

        _LOADER.append(_Loader)
    return _LOADER[0](text)


def resolve_plain(text: str) -> Any:
    """The value of an unquoted scalar under YAML 1.2's core schema."""
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.match(text):
        return int(text.replace("_", ""), 10)
    if _OCTAL.match(text):  # Go's ParseInt(s, 0, 64), as yaml.v3 does: a leading 0 means octal
        return int(text.replace("_", ""), 8)
    lowered = text.lower()
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if lowered.startswith(prefix):
            try:
                return int(text[2:], base)
            except ValueError:
                return text
    if _FLOAT.match(text) and any(ch.isdigit() for ch in text):
        return float(text)
    if lowered in (".inf", "+.inf"):
        return float("inf")
    if lowered == "-.inf":
        return float("-inf")
    if lowered == ".nan":
        return float("nan")
    return text


class Document:
    """One parsed YAML document and what came along with it (a plain class: ``dataclasses``
    costs every compose command milliseconds of imports)."""

    __slots__ = ("file", "data", "positions", "resets", "overrides")

    def __init__(self, file: str, data: Any) -> None:
        self.file, self.data = file, data
        self.positions: Positions = {}
        self.resets: list[Path] = []
        self.overrides: list[Path] = []


class _Converter:
    """Turns a composed node tree into Python values, recording positions and tags."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.visits = 0

    def here(self, node: yaml.Node) -> Mark:
        mark = node.start_mark
        return (self.document.file, mark.line + 1, mark.column + 1)

    def fail(self, node: yaml.Node, path: Path, message: str, hint: str | None = None) -> SpecSyntaxError:
        file, line, column = self.here(node)
        return SpecSyntaxError(message, location=SourceLocation(file, line, column, dotted(path)), hint=hint)

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.visits += 1
        if self.visits > MAX_NODES:
            raise self.fail(node, path, "document expands to too many nodes", "reduce alias use")
        if node.tag == "!override":
            self.document.overrides.append(path)
        if node.id == "mapping":
            return self.mapping(node, path)
        if node.id == "sequence":
            items = []
            for i, item in enumerate(node.value):
                self.document.positions[(*path, i)] = self.here(item)
                items.append(self.convert(item, (*path, i)))
            return items
        return self.scalar(node, path)

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        tag = node.tag
        if tag == _PLAIN:
            return resolve_plain(node.value)
        if tag in ("!reset", "!override") or tag.endswith(":str") or tag == "!":
            return node.value
        if tag.endswith(":binary") or tag.endswith(":timestamp"):
            return node.value
        return resolve_plain(node.value)  # :int, :float, ... and unknown tags: read as untagged, as Compose does

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        explicit: set[str] = set()
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _PLAIN and key_node.value == "<<" or key_node.tag.endswith(":merge"):
                merges.append(value_node)
                continue
            key = self.key(key_node, path)
            if key in explicit:
                raise self.fail(key_node, (*path, key), f"mapping key {key!r} already defined",
                                "remove the duplicate key")
            explicit.add(key)
            child = (*path, key)
            self.document.positions[child] = self.here(key_node)
            if value_node.tag == "!reset":
                self.document.resets.append(child)
                continue
            result[key] = self.convert(value_node, child)
        for merge in merges:
            sources = merge.value if merge.id == "sequence" else [merge]
            for source in sources:
                if source.id != "mapping":
                    raise self.fail(source, path, "merge key << needs a mapping or a list of mappings")
                for key, value in self.mapping(source, path).items():
                    if key not in explicit:
                        explicit.add(key)
                        result[key] = value
        return result

    def key(self, node: yaml.Node, path: Path) -> str:
        if node.id != "scalar":
            raise self.fail(node, path, "mapping keys must be scalars")
        value = self.scalar(node, path)
        if not isinstance(value, str):
            where = dotted(path) or "the document"
            raise self.fail(node, path, f"non-string key in {where}: {node.value}",
                            f'quote the key ("{node.value}")')
        return value


def dotted(path: Path) -> str:
    """``services.web.ports[0]`` for ("services", "web", "ports", 0)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def locate(positions: Mapping[Path, Mark] | None, path: Path, file: str | None = None) -> SourceLocation:
    """Where ``path`` was written: its own mark, else its nearest recorded ancestor's."""
    for end in range(len(path), 0, -1):
        found = positions.get(tuple(path[:end])) if positions else None
        if found is not None:
            return SourceLocation(found[0], found[1], found[2], dotted(path))
    return SourceLocation(file, None, None, dotted(path) or None)


def parse_documents(text: str, file: str) -> list[Document]:
    """Every YAML document of ``text`` (a file may hold several), converted."""
    import yaml

    loader = _loader(text)
    documents: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            document = Document(file=file, data=None)
            if node is not None:
                document.data = _Converter(document).convert(node, ())
            documents.append(document)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        location = SourceLocation(file, mark.line + 1, mark.column + 1) if mark else SourceLocation(file)
        problem = error.problem or error.context or "invalid YAML"
        raise SpecSyntaxError(f"invalid YAML: {problem}", location=location,
                              hint="fix the YAML syntax at this line") from None
    except yaml.YAMLError as error:
        raise SpecSyntaxError(f"invalid YAML: {error}", location=SourceLocation(file)) from None
    finally:
        loader.dispose()
    return documents
