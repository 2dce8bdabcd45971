"""Load the demo incident: the 2018-01-18 mybinder.org "reddit hug", from its published report."""

from __future__ import annotations

from importlib.resources import files

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hindsight.rendering.markdown_reader import read_markdown
from hindsight.services.incidents import StoredPostmortem, save_postmortem
from hindsight.storage.models import IncidentRow

DEMO_FILE = "2018-01-18-reddit-hugs-mybinder.md"


def demo_document() -> str:
    """The demo postmortem in the Markdown form."""
    return files(__package__).joinpath(DEMO_FILE).read_text(encoding="utf-8")


def load_demo(session: Session, *, author: str, if_empty: bool = False) -> StoredPostmortem | None:
    """Store the demo incident (updating it if present); with `if_empty`, only into an empty
    database. Returns None when it was skipped."""
    if if_empty and session.scalar(select(func.count()).select_from(IncidentRow)):
        return None
    postmortem = read_markdown(demo_document(), DEMO_FILE)
    return save_postmortem(session, postmortem=postmortem, author=author, action="demo")[1]
