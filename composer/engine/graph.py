"""The dependency graph of a project: services, networks and volumes, edges carry conditions.

An edge ``a -> b`` means "a needs b": ``depends_on`` (with its condition), ``links``,
``network_mode``/``volumes_from`` service references, and the networks/volumes a service uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from composer.errors import SemanticError

if TYPE_CHECKING:
    import networkx

    from composer.spec.model import Project


def service_node(name: str) -> str:
    return f"service:{name}"


def build_graph(project: "Project") -> "networkx.DiGraph":
    """A DiGraph with ``service:x``/``network:x``/``volume:x`` nodes; edges point at what is needed."""
    import networkx

    graph = networkx.DiGraph()
    for name in project.networks:
        graph.add_node(f"network:{name}", kind="network", name=name)
    for name in project.volumes:
        graph.add_node(f"volume:{name}", kind="volume", name=name)
    for name, service in project.services.items():
        graph.add_node(service_node(name), kind="service", name=name)
    for name, service in project.services.items():
        node = service_node(name)
        for dependency, spec in service.depends_on.items():
            if dependency in project.services:
                graph.add_edge(node, service_node(dependency), kind="depends_on", condition=spec.condition,
                               required=spec.required, restart=spec.restart)
        for network in service.networks:
            graph.add_edge(node, f"network:{network}", kind="network")
        for volume in service.volumes:
            if volume.get("type") == "volume" and volume.get("source") in project.volumes:
                graph.add_edge(node, f"volume:{volume['source']}", kind="volume")
    _raise_on_cycle(graph)
    return graph


def _raise_on_cycle(graph: "networkx.DiGraph") -> None:
    import networkx

    try:
        cycle = networkx.find_cycle(graph)
    except networkx.NetworkXNoCycle:
        return
    names = [graph.nodes[a]["name"] for a, _ in cycle] + [graph.nodes[cycle[0][0]]["name"]]
    raise SemanticError("dependency cycle detected: " + " -> ".join(names),
                        hint="remove one of these depends_on edges")


def service_graph(graph: "networkx.DiGraph") -> "networkx.DiGraph":
    """Only the service nodes and the edges between them."""
    return graph.subgraph(n for n, d in graph.nodes(data=True) if d["kind"] == "service").copy()


def start_order(graph: "networkx.DiGraph") -> list[str]:
    """Service names, dependencies first (ties broken by name)."""
    import networkx

    services = service_graph(graph).reverse(copy=True)
    return [graph.nodes[n]["name"] for n in networkx.lexicographical_topological_sort(services)]


def stop_order(graph: "networkx.DiGraph") -> list[str]:
    """Service names, dependents first (the reverse of :func:`start_order`)."""
    return list(reversed(start_order(graph)))


def render_text(graph: "networkx.DiGraph") -> str:
    """A tree: each root service, then what it depends on, indented."""
    services = service_graph(graph)
    roots = sorted(n for n in services if services.in_degree(n) == 0) or sorted(services)
    lines: list[str] = []

    def walk(node: str, depth: int, condition: str | None) -> None:
        suffix = f" ({condition})" if condition else ""
        lines.append("  " * depth + ("└─ " if depth else "") + services.nodes[node]["name"] + suffix)
        for child in sorted(services.successors(node)):
            walk(child, depth + 1, services.edges[node, child]["condition"])

    for root in roots:
        walk(root, 0, None)
    return "\n".join(lines)


def render_dot(graph: "networkx.DiGraph") -> str:
    """Graphviz DOT text of the service graph."""
    services = service_graph(graph)
    lines = ["digraph compose {", "  rankdir=LR;"]
    lines += [f'  "{services.nodes[n]["name"]}";' for n in sorted(services)]
    for a, b, data in sorted(services.edges(data=True)):
        lines.append(f'  "{services.nodes[a]["name"]}" -> "{services.nodes[b]["name"]}" '
                     f'[label="{data["condition"]}"];')
    lines.append("}")
    return "\n".join(lines)


def render_mermaid(graph: "networkx.DiGraph") -> str:
    """Mermaid flowchart text of the service graph."""
    services = service_graph(graph)
    lines = ["graph LR"]
    lines += [f"  {services.nodes[n]['name']}" for n in sorted(services) if not services.degree(n)]
    for a, b, data in sorted(services.edges(data=True)):
        lines.append(f"  {services.nodes[a]['name']} -->|{data['condition']}| {services.nodes[b]['name']}")
    return "\n".join(lines)
