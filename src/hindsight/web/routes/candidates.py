"""Root-cause candidates: one click on the postmortem page takes a candidate into the analysis
as the trigger or a contributing factor; the API lists them and does the same."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from hindsight.domain.access import Actor
from hindsight.errors import InvalidInputError
from hindsight.services.candidates import accept_candidate, report_json, root_cause_candidates
from hindsight.services.database import Session
from hindsight.web.deps import SESSION, page_actor, verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)])


class FactorRead(BaseModel):
    """One part of a candidate's score."""

    name: str
    points: float
    reason: str


class CandidateRead(BaseModel):
    """A possible trigger, best first."""

    ref: str
    rank: int
    kind: str
    score: float
    at: str
    text: str
    source: str
    provenance: list[str]
    factors: list[FactorRead]
    explanation: str


class CandidatesRead(BaseModel):
    """The ranked candidates and the impact start they were ranked against."""

    impact_start: str | None
    impact_start_basis: str
    candidates: list[CandidateRead]


class CandidateAccept(BaseModel):
    """Take a candidate into the analysis."""

    ref: str = Field(max_length=100)
    as_: str = Field(alias="as", pattern="^(trigger|factor)$")
    category: str = Field(default="", max_length=40)


@router.post("/incidents/{key}/candidates/accept")
async def candidate_accept_page(
    request: Request, key: str, actor: Actor = Depends(page_actor), session: Session = SESSION
) -> Response:
    """Accept a candidate as the trigger or a contributing factor (a revision)."""
    form = await request.form()
    ref, as_ = str(form.get("ref", "")), str(form.get("as", ""))
    if not ref or as_ not in ("trigger", "factor"):
        raise InvalidInputError("choose a candidate and whether it is the trigger or a factor")
    accept_candidate(session, key=key, ref=ref, as_=as_, author=actor.username, actor=actor)
    return RedirectResponse(f"/incidents/{key}#sec-analysis", status_code=303)


def api_router(actor_dependency: object, errors: dict[int | str, dict[str, object]]) -> APIRouter:
    """The API routes, given the API's actor dependency and documented errors."""
    api = APIRouter()

    @api.get("/incidents/{key}/candidates", response_model=CandidatesRead, responses=errors)
    async def candidates_list(
        key: str,
        actor: Actor = actor_dependency,  # type: ignore[assignment]
        session: Session = SESSION,
    ) -> CandidatesRead:
        """Root-cause candidates ranked from the evidence, each with its explained score."""
        report = root_cause_candidates(session, key=key, actor=actor)
        return CandidatesRead.model_validate(report_json(report))

    @api.post("/incidents/{key}/candidates/accept", responses=errors)
    async def candidates_accept(
        key: str,
        body: CandidateAccept,
        actor: Actor = actor_dependency,  # type: ignore[assignment]
        session: Session = SESSION,
    ) -> dict[str, object]:
        """Take a candidate into the analysis as the trigger or a contributing factor."""
        stored = accept_candidate(
            session,
            key=key,
            ref=body.ref,
            as_=body.as_,
            author=actor.username,
            actor=actor,
            category=body.category,
        )
        analysis = stored.postmortem.analysis
        return {
            "version": stored.version,
            "trigger": analysis.trigger,
            "contributing_factors": [
                {"id": f.id, "category": f.category, "description": f.description}
                for f in analysis.contributing_factors
            ],
        }

    return api
