"""Create, read, list, change and import postmortems, with a revision for every change.

One module per responsibility: `stored` (the stored value, what a reader may see), `reading`,
`writing` and `listing`. Callers import from here.
"""

from hindsight.services.incidents.listing import (
    SORTS,
    IncidentFilter,
    IncidentPage,
    IncidentSummary,
    list_postmortems,
)
from hindsight.services.incidents.reading import (
    Revision,
    get_postmortem,
    list_revisions,
    visible_incident_id,
)
from hindsight.services.incidents.stored import (
    StoredPostmortem,
    check_categories,
    load_all_parts,
    utc_now,
    visible_to,
)
from hindsight.services.incidents.writing import (
    create_postmortem,
    new_key,
    save_postmortem,
    update_postmortem,
)

__all__ = [
    "SORTS",
    "IncidentFilter",
    "IncidentPage",
    "IncidentSummary",
    "Revision",
    "StoredPostmortem",
    "check_categories",
    "create_postmortem",
    "get_postmortem",
    "list_postmortems",
    "list_revisions",
    "load_all_parts",
    "new_key",
    "save_postmortem",
    "update_postmortem",
    "utc_now",
    "visible_incident_id",
    "visible_to",
]
