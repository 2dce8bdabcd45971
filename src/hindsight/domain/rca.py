"""Root cause analysis: the trigger, root causes, contributing factors and a five-whys chain."""

from __future__ import annotations

from pydantic.dataclasses import dataclass

from hindsight.domain.base import DOMAIN_CONFIG
from hindsight.domain.identity import check_item_id, with_ids
from hindsight.domain.text import clean_items, clean_line, clean_prose, clean_slug

# The categories every new database starts with; teams add their own (`hindsight taxonomy add`).
DEFAULT_FACTOR_CATEGORIES: dict[str, str] = {
    "change": "A deploy, configuration or infrastructure change",
    "capacity": "Load, limits, quotas or resource exhaustion",
    "dependency": "A third-party service or internal dependency",
    "monitoring": "Missing, noisy or misleading alerts and dashboards",
    "process": "Runbooks, handoffs, review or on-call process",
    "knowledge": "Missing documentation, training or context",
    "software": "A latent defect in code",
    "hardware": "Hosts, disks, network equipment",
    "security": "Attack, abuse or credential problems",
    "communication": "Information that did not reach the right people in time",
}


@dataclass(config=DOMAIN_CONFIG)
class ContributingFactor:
    """A condition that made the incident possible or worse, with a category from the taxonomy."""

    category: str
    description: str
    id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_item_id(self.id, "id"))
        object.__setattr__(self, "category", clean_slug(self.category, "category", max_length=40))
        text = clean_line(self.description, "description", required=True)
        object.__setattr__(self, "description", text)


@dataclass(config=DOMAIN_CONFIG)
class Why:
    """One step of a five-whys chain: the question asked and the answer found."""

    question: str
    answer: str
    id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_item_id(self.id, "id"))
        object.__setattr__(self, "question", clean_line(self.question, "question", required=True))
        object.__setattr__(self, "answer", clean_line(self.answer, "answer", required=True))


@dataclass(config=DOMAIN_CONFIG)
class RootCauseAnalysis:
    """Why the incident happened."""

    trigger: str = ""
    root_causes: tuple[str, ...] = ()
    contributing_factors: tuple[ContributingFactor, ...] = ()
    five_whys: tuple[Why, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "trigger", clean_prose(self.trigger, "trigger"))
        object.__setattr__(self, "root_causes", clean_items(self.root_causes, "root_causes"))
        for name in ("contributing_factors", "five_whys"):
            items = with_ids(getattr(self, name), f"analysis.{name}")
            object.__setattr__(self, name, items)
