"""Pulls the plan makes for a service's ``type: image`` volumes (Compose 2.40's
``pullRequiredImages``): an image a volume mounts is pulled when it is not here, whatever
``--pull`` or the service's ``pull_policy`` say (those apply to the service's own image only:
a present one is never pulled again, a missing one is pulled even with ``--pull never``).
``compose pull`` does not pull them. Each pull is an ordinary ``pull`` operation, shared with a
service whose own image is the same; the containers' create waits for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from composer.engine.observe import ObservedState
    from composer.engine.plan import PlanBuilder
    from composer.spec.model import Project, Service


def mount_images(service: "Service") -> list[tuple[int, str]]:
    """``(index, image)`` of each ``type: image`` volume of ``service`` (its index among the
    service's volumes, as Compose names the pull ``<service>:volume <index>``)."""
    return [(index, str(volume["source"])) for index, volume in enumerate(service.volumes)
            if volume.get("type") == "image" and volume.get("source")]


def project_mount_images(project: "Project", names: tuple[str, ...] = ()) -> list[str]:
    """The images the ``type: image`` volumes of the services ``names`` (all: none given) mount."""
    services = [project.services[n] for n in names or project.services if n in project.services]
    return [image for service in services for _, image in mount_images(service)]


def plan_mount_pulls(plan: "PlanBuilder", service: "Service", observed: "ObservedState",
                     built: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Add a pull of each missing image a volume of ``service`` mounts; the ids of those pulls.
    Not of an image a service ``built`` (Compose ignores that pull's failure: the build makes it),
    nor of one ``observed`` did not look for (left to the create: No such image)."""
    return tuple(add_pull(plan, image, "image not found", f"{service.name}:volume {index}")
                 for index, image in mount_images(service)
                 if image not in built and image in observed.images and observed.images[image] is None)


def add_pull(plan: "PlanBuilder", image: str, cause: str, puller: str) -> str:
    """The pull of ``image`` (one for all who need it); ``puller`` (a service, or
    ``web:volume 0``) joins its ``pullers``, the names Compose gives the pull's lines."""
    op_id = f"pull image:{image}"
    pullers = tuple(plan.get(op_id).params.get("pullers", ())) if op_id in plan else ()
    return plan.add("pull", f"image:{image}", cause, reference=image, service=pullers[0] if pullers else puller,
                    pullers=pullers if puller in pullers else (*pullers, puller))
