"""The plan is data: operations on resources and the dependencies between them (a DAG).

``Operation("create", "service:web:1", cause="no container")``; each operation names the ids of
the operations it needs (``needs``), and of those it would like but can do without
(``wants``: ``depends_on`` with ``required: false``). The executor walks the DAG; the planner
(``reconcile``) builds it, purely.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Iterator, Literal, Mapping, NamedTuple

from composer.errors import ComposerError, PlanError

KINDS = frozenset({
    "pull", "build", "create", "recreate", "start", "stop", "kill", "restart", "pause", "unpause",
    "remove", "wait", "warn", "remove-image", "pre-start",
})


class Operation(NamedTuple):
    """One step: ``kind`` on ``resource`` (``service:web:1``, ``network:default``,
    ``volume:data``, ``image:nginx``, ``container:<name>``), because of ``cause``.

    ``params`` carries what the executor needs (a container id, a spec ...); it is not shown
    in the plan's text.
    """

    kind: str
    resource: str
    cause: str = ""
    needs: tuple[str, ...] = ()
    wants: tuple[str, ...] = ()
    params: Mapping[str, Any] = MappingProxyType({})

    @property
    def id(self) -> str:
        return f"{self.kind} {self.resource}"

    def __str__(self) -> str:
        text = self.id
        if self.cause:
            text += f" ({self.cause})"
        after = list(self.needs) + [f"{w}?" for w in self.wants]
        if after:
            text += " <- " + ", ".join(after)
        return text


class Plan:
    """Operations in a stable (topological, then textual) order, and warnings for the user."""

    __slots__ = ("operations", "warnings")

    def __init__(self, operations: tuple[Operation, ...] = (), warnings: tuple[str, ...] = ()) -> None:
        self.operations = tuple(operations)
        self.warnings = tuple(warnings)
        ids = [op.id for op in self.operations]
        if len(set(ids)) != len(ids):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            raise PlanError(f"internal: operation {duplicate!r} planned twice")
        known = set(ids)
        for op in self.operations:
            for need in (*op.needs, *op.wants):
                if need not in known:
                    raise PlanError(f"internal: {op.id!r} needs {need!r}, which is not planned")

    def __repr__(self) -> str:
        return f"Plan({self.text()!r})"

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def __len__(self) -> int:
        return len(self.operations)

    def __bool__(self) -> bool:
        return bool(self.operations)

    def get(self, op_id: str) -> Operation:
        for op in self.operations:
            if op.id == op_id:
                return op
        raise KeyError(op_id)

    def dependents(self) -> dict[str, list[str]]:
        """``{op id: ids of the operations that need or want it}``."""
        result: dict[str, list[str]] = {op.id: [] for op in self.operations}
        for op in self.operations:
            for need in (*op.needs, *op.wants):
                result[need].append(op.id)
        return result

    def text(self) -> str:
        """One line per operation (the golden form used by tests and ``--dry-run``)."""
        return "\n".join(str(op) for op in self.operations)


class PlanBuilder:
    """Collects operations, drops dangling/duplicate edges, orders them for display."""

    def __init__(self) -> None:
        self._ops: dict[str, Operation] = {}
        self.warnings: list[str] = []

    def add(self, kind: str, resource: str, cause: str = "", *, needs: tuple[str, ...] = (),
            wants: tuple[str, ...] = (), **params: Any) -> str:
        if kind not in KINDS:
            raise PlanError(f"internal: unknown operation kind {kind!r}")
        op = Operation(kind=kind, resource=resource, cause=cause, needs=needs, wants=wants, params=params)
        if op.id in self._ops:
            previous = self._ops[op.id]
            op = Operation(kind=kind, resource=resource, cause=previous.cause or cause,
                           needs=_union(previous.needs, needs), wants=_union(previous.wants, wants),
                           params={**previous.params, **params})
        self._ops[op.id] = op
        return op.id

    def __contains__(self, op_id: str) -> bool:
        return op_id in self._ops

    def get(self, op_id: str) -> Operation:
        """The planned operation ``op_id`` (so far)."""
        return self._ops[op_id]

    def needs_of(self, op_id: str) -> tuple[str, ...]:
        """What the planned operation ``op_id`` waits for (so far)."""
        return self._ops[op_id].needs

    def ids(self, kind: str | None = None, prefix: str = "") -> list[str]:
        return [i for i, op in self._ops.items()
                if (kind is None or op.kind == kind) and op.resource.startswith(prefix)]

    def build(self) -> Plan:
        """The plan, edges to unplanned operations dropped, in topological order."""
        ops = {i: _prune(op, self._ops) for i, op in self._ops.items()}
        ordered: list[Operation] = []
        placed: set[str] = set()
        pending = sorted(ops)
        while pending:
            ready = [i for i in pending if all(n in placed for n in (*ops[i].needs, *ops[i].wants))]
            if not ready:
                raise PlanError("internal: the plan has a cycle: " + ", ".join(pending))
            for i in ready:
                ordered.append(ops[i])
                placed.add(i)
            pending = [i for i in pending if i not in placed]
        return Plan(tuple(ordered), warnings=tuple(dict.fromkeys(self.warnings)))


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*a, *b)))


def _prune(op: Operation, known: Mapping[str, Operation]) -> Operation:
    needs = tuple(sorted(n for n in set(op.needs) if n in known))
    wants = tuple(sorted(w for w in set(op.wants) if w in known and w not in needs))
    return Operation(kind=op.kind, resource=op.resource, cause=op.cause, needs=needs, wants=wants,
                     params=op.params)


class Outcome(NamedTuple):
    """How one operation ended; ``optional``: only ``required: false`` dependents waited for it."""

    status: Literal["done", "failed", "skipped"]
    error: ComposerError | None = None
    optional: bool = False


class ExecutionResult:
    """How each operation ended (by operation id), and the containers created (by resource)."""

    __slots__ = ("outcomes", "ids")

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}
        self.ids: dict[str, str] = {}

    @property
    def failures(self) -> list[tuple[str, ComposerError]]:
        return [(i, o.error) for i, o in self.outcomes.items()
                if o.status == "failed" and o.error and not o.optional]

    def raise_for_failures(self) -> None:
        """One PlanError for everything that failed (its hint is the first failure's)."""
        failures = self.failures
        if not failures:
            return
        skipped = sum(o.status == "skipped" for o in self.outcomes.values())
        if len(failures) == 1 and not skipped:
            raise failures[0][1]
        lines = [f"{op_id}: {error.message}" for op_id, error in failures]
        if skipped:
            lines.append(f"{skipped} dependent operation(s) not done")
        raise PlanError("\n".join(lines), hint=failures[0][1].hint,
                        exit_code=max(e.exit_code for _, e in failures))
