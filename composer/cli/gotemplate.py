"""Go's text/template, the part docker users write in ``--format``: fields (``.A.B``), variables,
pipelines, ``if``/``else``/``range``/``with``, and docker's functions (``json``, ``join``,
``index``, ``lower``, ``upper``, ``title``, ``split``, ``pad``, ``truncate``, ``len``, comparisons).

Data is JSON-like (dicts, lists, scalars); a callable in a dict is a method (``.Label "k"``).
Values print as Go's ``fmt.Sprint`` does: ``map[k:v]``, ``[a b]``, ``<nil>``, ``<no value>``.
"""

from __future__ import annotations

import json
import re

from composer.errors import UsageError

ACTION = re.compile(r"{{(-\s)?\s*(.*?)\s*(\s-)?}}", re.DOTALL)
TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|`[^`]*`|:=|[|(),=]|-?\d+(?:\.\d+)?'
                   r'|\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*|(?:\.[A-Za-z0-9_]+)+|\.|[A-Za-z_][A-Za-z0-9_]*)')
MISSING = object()  # a key the data does not have: prints "<no value>"


class NilList(list):
    """A Go nil slice: prints ``[]`` but is ``null`` to ``json`` (an empty list stays ``[]``)."""


class NilMap(dict):
    """A Go nil map: prints ``map[]`` but is ``null`` to ``json``."""


class GoStruct(dict):
    """A Go struct: ``fmt.Sprint`` prints its fields' values in order (``{127.0.0.1 8080}``)."""


class GoMap(dict):
    """A Go map (``go_structs`` tells them from structs): a missing key is no error."""


def go_structs(value: object, maps: frozenset[str], key: str = "", parent: str = "") -> object:
    """``value`` with its dicts made GoStructs, but those under a name in ``maps`` (``Labels``, or
    ``LogConfig.Config`` by its parent): Go maps, whose values are structs again."""
    if isinstance(value, (NilList, NilMap, GoStruct, GoMap)):
        return value
    if isinstance(value, dict):
        if key in maps or f"{parent}.{key}" in maps:
            return GoMap({name: go_structs(item, maps) for name, item in value.items()})
        return GoStruct({name: go_structs(item, maps, name, key) for name, item in value.items()})
    if isinstance(value, list):
        return [go_structs(item, maps) for item in value]
    return value


class FormatterContext(dict):
    """One row of a docker CLI listing (``ps``, ``volume ls`` ...): its ``json`` is the context's
    MarshalJSON, Go's ``json.Marshal`` (``<``, ``>``, ``&`` escaped: ``-\\u003e``), where the
    template function ``json`` of a plain value keeps them."""


def go_nils(value: object, lists: frozenset[str], maps: frozenset[str] = frozenset()) -> object:
    """``value`` with every None under a name in ``lists`` (``maps``) made a Go nil slice (map),
    so templates print them as docker does."""
    if isinstance(value, (NilList, NilMap)):
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item is None and key in lists:
                item = NilList()
            elif item is None and key in maps:
                item = NilMap()
            out[key] = go_nils(item, lists, maps)
        return out
    if isinstance(value, list):
        return [go_nils(item, lists, maps) for item in value]
    return value


class TemplateError(UsageError):
    """The template does not parse (``parse``) or cannot be executed on the data (``field``: the
    field a struct does not have, at the chain ``chain``; ``reason``: another failure there)."""

    parse = False
    field = ""
    chain = ""
    reason = ""


def _field_error(message: str, field: str, chain: str) -> TemplateError:
    error = TemplateError(message)
    error.field, error.chain = field, chain
    return error


PARSING_ERROR = ("template parsing error: ", "template parsing error: ")  # docker CLI's prefixes (parse, run)


def docker_words(error: TemplateError, context: str, prefixes: tuple[str, str] = PARSING_ERROR) -> str:
    """The error as docker's CLI words it for its ``context``: the Go type its template ran on
    (``*formatter.volumeContext``: ``... in type *formatter.volumeContext``), or ``map`` for
    inspect's retry on the raw JSON (``map has no entry for key "Foo"``)."""
    reason = error.message
    if error.field and context == "map":
        reason = reason.replace(f"can't evaluate field {error.field}", f'map has no entry for key "{error.field}"')
    elif error.field:
        reason += f" in type {context}"
    return prefixes[0 if error.parse else 1] + reason


MAPS = frozenset({"Labels", "Networks", "Ports", "PortBindings", "ExposedPorts", "Volumes", "Options", "Data",
                  "DriverOpts", "Sysctls", "StorageOpt", "Tmpfs", "Config", "Runtimes"})


def parse(template: str) -> list:
    """``template``'s nodes; a TemplateError (``parse`` set) when it does not parse (docker's CLI
    parses a ``--format`` before it asks the daemon for anything)."""
    try:
        return _parse(_lex(template), 0, ())[0]
    except TemplateError as error:
        error.parse = True
        raise


def render(template: str, data: object, strict: bool = False) -> str:
    """``template`` executed on ``data``. ``strict``: ``data`` stands for a Go struct, so a field
    it does not have is an error (docker's "can't evaluate field"), except in maps (``MAPS``)."""
    nodes = parse(template)
    out: list[str] = []
    try:
        _run(nodes, data, {"$": data, "strict": strict}, out)
    except TemplateError as error:
        if error.field or error.reason:  # Go's position: line and column of the chain (its missing field)
            at = template.find(error.chain)
            at = max(at, 0) + (error.chain.find("." + error.field) if at >= 0 and error.field else 0)
            line, column = template.count("\n", 0, at) + 1, at - template.rfind("\n", 0, at) - 1
            reason = error.reason or f"can't evaluate field {error.field}"
            error.message = f'template: :{line}:{column}: executing "" at <{error.chain}>: {reason}'
        raise
    return "".join(out)


# --- parsing: a list of ("text", s) | ("action", pipeline) | ("if"|"with", pipeline, body, else)
#     | ("range", pipeline, variables, body, else)
def _lex(template: str) -> list[tuple[str, str]]:
    """Text and action pieces, with ``{{-``/``-}}`` trimming applied."""
    pieces: list[tuple[str, str]] = []
    position = 0
    for match in ACTION.finditer(template):
        text = template[position:match.start()]
        pieces.append(("text", text.rstrip() if match.group(1) else text))
        position = match.end()
        if match.group(3):
            rest = template[position:]
            position += len(rest) - len(rest.lstrip())
        if not match.group(2).startswith("/*"):
            pieces.append(("action", match.group(2)))
    rest = template[position:]
    if "{{" in rest or any(kind == "text" and "{{" in text for kind, text in pieces):
        raise TemplateError("template: :1: unclosed action")
    pieces.append(("text", rest))
    return pieces


def _parse(pieces: list, index: int, stops: tuple[str, ...]) -> tuple[list, int]:
    """Nodes from ``pieces[index:]`` until a keyword in ``stops``; (nodes, index of that keyword)."""
    nodes: list = []
    while index < len(pieces):
        kind, text = pieces[index]
        if kind == "text":
            if text:
                nodes.append(("text", text))
            index += 1
            continue
        word = text.split(None, 1)[0] if text else ""
        if word in stops:
            return nodes, index
        if word in ("if", "with", "range"):
            node, index = _parse_block(pieces, index, word, text[len(word):])
            nodes.append(node)
            continue
        if word in ("end", "else"):
            raise TemplateError(f"template: unexpected {{{{{word}}}}}")
        nodes.append(("action", _pipeline(text)))
        index += 1
    if stops:
        raise TemplateError("template: unexpected EOF (an {{end}} is missing)")
    return nodes, index


def _parse_block(pieces: list, index: int, word: str, rest: str) -> tuple[tuple, int]:
    pipeline = _pipeline(rest)
    body, index = _parse(pieces, index + 1, ("else", "end"))
    otherwise: list = []
    text = pieces[index][1]
    if text.startswith("else"):
        chained = text[4:].strip()
        if chained.startswith(("if ", "with ")):  # {{else if X}}: a nested block sharing our {{end}}
            inner = chained.split(None, 1)[0]
            node, index = _parse_block(pieces, index, inner, chained[len(inner):])
            return (word, pipeline, body, [node]), index
        otherwise, index = _parse(pieces, index + 1, ("end",))
    return (word, pipeline, body, otherwise), index + 1


def _pipeline(text: str) -> dict:
    """``[$a[, $b] :=] command | command ...`` -> {"vars": [...], "commands": [[token, ...], ...]}."""
    tokens = _tokens(text)
    variables: list[str] = []
    if ":=" in tokens or "=" in tokens:
        split = tokens.index(":=") if ":=" in tokens else tokens.index("=")
        variables = [t for t in tokens[:split] if t != ","]
        tokens = tokens[split + 1:]
    commands, current, depth = [], [], 0
    for token in tokens:
        depth += (token == "(") - (token == ")")
        if token == "|" and depth == 0:
            commands.append(current)
            current = []
        else:
            current.append(token)
    commands.append(current)
    if not all(commands):
        raise TemplateError(f"template: missing value for command in {{{{{text}}}}}")
    return {"vars": variables, "commands": commands}


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise TemplateError(f"template: unexpected {text[position:]!r} in {{{{{text}}}}}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


# --- execution
def _run(nodes: list, dot: object, variables: dict, out: list[str]) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "action":
            value = _pipe(node[1], dot, variables)
            if not node[1]["vars"]:
                out.append(show(value))
        elif kind == "range":
            _range(node, dot, variables, out)
        else:
            value = _pipe(node[1], dot, variables)
            if truth(value):
                _run(node[2], value if kind == "with" else dot, dict(variables), out)
            else:
                _run(node[3], dot, dict(variables), out)


def _range(node: tuple, dot: object, variables: dict, out: list[str]) -> None:
    pipeline = node[1]
    value = _pipe({"vars": [], "commands": pipeline["commands"]}, dot, variables)
    if isinstance(value, dict):
        items = [(key, value[key]) for key in sorted(value)]
    elif isinstance(value, (list, tuple)):
        items = list(enumerate(value))
    elif value is None or value is MISSING:
        items = []
    elif isinstance(value, int):
        items = [(i, i) for i in range(value)]
    else:
        raise TemplateError(f"template: range can't iterate over {show(value)}")
    if not items:
        _run(node[3], dot, dict(variables), out)
    names = pipeline["vars"]
    for key, item in items:
        scope = dict(variables)
        if len(names) == 1:
            scope[names[0]] = item
        elif len(names) == 2:
            scope[names[0]], scope[names[1]] = key, item
        _run(node[2], item, scope, out)


def _pipe(pipeline: dict, dot: object, variables: dict) -> object:
    value: object = MISSING
    for index, command in enumerate(pipeline["commands"]):
        value = _command(command, dot, variables, () if index == 0 else (value,))
    for name in pipeline["vars"][-1:]:
        variables[name] = value
    return value


def _command(tokens: list[str], dot: object, variables: dict, piped: tuple) -> object:
    grouped = _group(tokens)
    head, rest = grouped[0], grouped[1:]
    if isinstance(head, str) and head in FUNCTIONS:
        args = [_operand(arg, dot, variables) for arg in rest] + list(piped)
        try:
            return FUNCTIONS[head](*args)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
            raise TemplateError(f"template: error calling {head}: {error}") from None
    value = _operand(head, dot, variables)
    if isinstance(head, list) and rest and isinstance(rest[0], str) and rest[0].startswith("."):
        value, rest = _field(value, rest[0][1:]), rest[1:]  # (index .A 1).Field
    if callable(value):
        given = [*(_operand(arg, dot, variables) for arg in rest), *piped]
        wanted = _arity(value, len(given))
        if wanted != len(given):
            error = TemplateError(f"template: wrong number of args for {head.rsplit('.', 1)[-1]}")
            error.chain, error.reason = str(head), f"wrong number of args for {str(head).rsplit('.', 1)[-1]}: " \
                f"want {wanted} got {len(given)}"
            raise error
        return value(*given)
    if rest or piped:
        raise TemplateError(f"template: can't give argument to non-function {head}")
    return value


def _arity(method: object, given: int) -> int:
    """How many arguments a row's method (``.Label "KEY"``: a lambda) takes; ``given`` for another
    callable."""
    code = getattr(method, "__code__", None)
    return given if code is None else code.co_argcount - len(getattr(method, "__defaults__", None) or ())


def _group(tokens: list[str]) -> list:
    """Tokens with parenthesized sub-pipelines gathered into lists."""
    grouped, stack = [], []
    for token in tokens:
        if token == "(":
            stack.append([])
        elif token == ")":
            if not stack:
                raise TemplateError("template: unexpected right paren")
            inner = stack.pop()
            (stack[-1] if stack else grouped).append(inner)
        else:
            (stack[-1] if stack else grouped).append(token)
    if stack or not grouped:
        raise TemplateError("template: :1: unclosed left paren" if stack else "template: :1: missing value for command")
    return grouped


def _operand(token, dot: object, variables: dict) -> object:
    if isinstance(token, list):  # ( pipeline )
        return _pipe(_pipeline(" ".join(_flatten(token))), dot, variables)
    if token[0] in "\"`":
        try:
            return json.loads(token) if token[0] == '"' else token[1:-1]
        except ValueError:  # an escape Go's strconv.Unquote has and JSON lacks (\x41), or a bad one
            raise TemplateError(f"template: :1: invalid syntax: {token}") from None
    if token[0].isdigit() or token[0] == "-":
        return float(token) if "." in token else int(token)
    if token in ("true", "false", "nil"):
        return {"true": True, "false": False, "nil": None}[token]
    if token[0] == "$":
        name, _, path = token.partition(".")
        if name not in variables or name == "strict":
            raise TemplateError(f"template: undefined variable: {name}")
        return _field(variables[name], path, variables["strict"])
    if token[0] == ".":
        return _field(dot, token[1:], variables["strict"])
    if token in FUNCTIONS:
        return FUNCTIONS[token]()
    raise TemplateError(f'template: function "{token}" not defined')


def _flatten(tokens: list) -> list[str]:
    return [part for token in tokens for part in (["(", *_flatten(token), ")"] if isinstance(token, list) else [token])]


def _field(value: object, path: str, strict: bool = False, parent: str = "") -> object:
    for name in filter(None, path.split(".")):
        if isinstance(value, dict):
            if strict and name not in value and not isinstance(value, GoMap) and (
                    isinstance(value, GoStruct) or parent not in MAPS):
                raise _field_error(f'template: executing "" at <.{path}>: can\'t evaluate field {name}', name,
                                   "." + path)
            value, parent = value.get(name, MISSING), name
        elif value is MISSING:  # past a map's missing key: Go's invalid value, printed <no value>
            return MISSING
        elif value is None:  # docker's inspect retries on the raw JSON: no entry for the nil one
            raise _field_error(f"template: nil pointer evaluating .{name}", parent, "." + path if parent else "")
        else:
            raise TemplateError(f"template: can't evaluate field {name} in {show(value)!r}")
    return value


# --- values
def truth(value: object) -> bool:
    """Go template truth: false, 0, nil and empty strings/lists/maps are false."""
    return value is not MISSING and bool(value)


def show(value: object) -> str:
    """``fmt.Sprint(value)``."""
    if value is MISSING:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, GoStruct):
        return "{" + " ".join(show(item) for item in value.values() if not callable(item)) + "}"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{show(value[key])}" for key in sorted(value)) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(show(item) for item in value) + "]"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def to_json(value: object) -> str:
    """docker's ``json`` function (no HTML escaping, compact; methods left out; Go nils as null)."""
    escaped = isinstance(value, FormatterContext)
    if isinstance(value, dict) and not isinstance(value, NilMap):
        value = {k: v for k, v in value.items() if not callable(v)}
    text = json.dumps(_unnil(None if value is MISSING else value), separators=(",", ":"), ensure_ascii=False)
    return go_escaped(text) if escaped else text


def go_json(value: object, indent: int | None = None, escape_html: bool = True) -> str:
    """``value`` as Go's ``json.Marshal`` writes it (``indent``: as ``json.Indent``, docker's
    inspect): UTF-8 kept, ``<``, ``>``, ``&`` escaped (``\\u0026\\u0026`` in ``sh -c 'a && b'``)
    unless ``escape_html`` is off (dockerd's own JSON: ``SetEscapeHTML(false)``)."""
    text = json.dumps(value, indent=indent, separators=None if indent else (",", ":"), ensure_ascii=False)
    return go_escaped(text) if escape_html else text


def go_escaped(text: str) -> str:
    """JSON text as Go's ``json.Marshal`` writes it: ``<``, ``>``, ``&``, U+2028/9 escaped."""
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def _unnil(value: object) -> object:
    if isinstance(value, (NilList, NilMap)):
        return None
    if isinstance(value, dict):
        return {key: _unnil(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unnil(item) for item in value]
    return value


def _index(container: object, *keys: object) -> object:
    for key in keys:
        if isinstance(container, dict):
            container = container.get(key, "")
        else:
            container = container[int(key)]
    return container


FUNCTIONS = {
    "json": to_json, "join": lambda items, sep: sep.join(show(i) for i in items), "split": lambda s, sep: s.split(sep),
    "lower": lambda s: str(s).lower(), "upper": lambda s: str(s).upper(), "title": lambda s: str(s).title(),
    "pad": lambda s, before, after: " " * before + show(s) + " " * after,
    "truncate": lambda s, n: str(s)[:n], "len": len, "index": _index,
    "print": lambda *a: "".join(show(x) for x in a), "println": lambda *a: " ".join(show(x) for x in a) + "\n",
    "printf": lambda fmt, *a: re.sub(r"%[vsdq]", "{}", fmt).format(*(show(x) for x in a)),
    "not": lambda v: not truth(v), "and": lambda *a: next((v for v in a if not truth(v)), a[-1]),
    "or": lambda *a: next((v for v in a if truth(v)), a[-1]),
    "eq": lambda a, *others: any(a == o for o in others), "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
}
