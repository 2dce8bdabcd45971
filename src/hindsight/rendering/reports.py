"""Reports people want to read: a postmortem through a Jinja2 template, as standalone HTML (one
file, styles inlined, printable, no external requests) or PDF (WeasyPrint).

Built-in templates live in `rendering/templates/reports/<name>.html`; a team adds its own by
putting `<name>.html` in its templates folder (setting `templates_dir`), which is searched
first, so a team can also replace a built-in one. A template gets `pm` (the postmortem),
`metrics`, `moments`, `chart` (the timeline SVG), `metrics_chart` (the metric series' SVG,
'' without series), `impact_rows` (each impact number with how it was found, and the cost with
its formula), `cost`, `resolution` (the mitigating and resolving events), `candidates` (the
root-cause candidates ranked from the evidence, with their reasons: computed at export time,
never stored in the postmortem) and the filters `md`, `duration`, `utc` and `label`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from hindsight.analysis.candidates import RootCauseCandidate
from hindsight.analysis.costs import compute_cost
from hindsight.analysis.impact import ImpactWindow, Series
from hindsight.analysis.metrics import compute_response_metrics, format_duration
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import KeyMoment
from hindsight.rendering.charts import metrics_svg, timeline_svg
from hindsight.rendering.html import markdown_to_html
from hindsight.rendering.impact_rows import impact_rows

BUILT_IN = ("google-sre", "pagerduty", "executive", "external", "classic")
DEFAULT_TEMPLATE = "google-sre"
_PACKAGE = resources.files("hindsight.rendering") / "templates" / "reports"


@dataclass(frozen=True)
class ReportCandidates:
    """The root-cause candidates ranked from the evidence, the impact start they were ranked
    against and where that start comes from, and which of them the analysis already holds."""

    impact_start: dt.datetime | None = None
    basis: str = ""
    ranked: tuple[RootCauseCandidate, ...] = ()
    taken: tuple[tuple[str, str], ...] = ()  # (ref, "trigger" or "contributing factor")

    def taken_as(self, ref: str) -> str:
        """'trigger' or 'contributing factor' when candidate `ref` was accepted, else ''."""
        return next((what for taken, what in self.taken if taken == ref), "")


NO_CANDIDATES = ReportCandidates()


@dataclass(frozen=True)
class ReportMetrics:
    """What the evidence gives a report beyond the postmortem itself: the metric series, the
    impact windows computed from them and the root-cause candidates."""

    series: tuple[Series, ...] = ()
    windows: tuple[ImpactWindow, ...] = ()
    candidates: ReportCandidates = NO_CANDIDATES


NO_METRICS = ReportMetrics()


class UnknownTemplateError(ValueError):
    """The template named is neither built in nor in the team's folder."""


def _environment(team_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if team_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(team_dir)))
    loaders.append(jinja2.FileSystemLoader(str(_PACKAGE)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = lambda text: Markup(markdown_to_html(text or "", images=False))
    env.filters["duration"] = format_duration
    env.filters["utc"] = lambda value, fmt="%Y-%m-%d %H:%M": (
        value.astimezone(dt.UTC).strftime(fmt) + " UTC" if value else "—"
    )
    env.filters["label"] = lambda value: str(value or "").replace("_", " ")
    return env


def template_names(team_dir: Path | None = None) -> list[str]:
    """Every template a postmortem can be rendered with: built-in and the team's."""
    names = set(BUILT_IN)
    if team_dir is not None and team_dir.is_dir():
        names |= {
            p.name.removesuffix(".html")
            for p in team_dir.glob("*.html")
            if not p.name.startswith("_")
        }
    return sorted(names)


def report_context(pm: Postmortem, metrics: ReportMetrics = NO_METRICS) -> dict[str, Any]:
    """What every template may use."""
    moments = pm.key_moments()
    resolution = [moments[m] for m in (KeyMoment.MITIGATED, KeyMoment.RESOLVED) if m in moments]
    return {
        "pm": pm,
        "metrics": compute_response_metrics(pm),
        "moments": {m.value: e for m, e in moments.items()},
        "chart": Markup(timeline_svg(pm)),
        "metrics_chart": Markup(metrics_svg(pm, metrics.series, metrics.windows)),
        "impact_rows": impact_rows(pm),
        "cost": compute_cost(pm),
        "resolution": resolution,
        "candidates": metrics.candidates,
    }


def render_report(
    pm: Postmortem,
    template: str = DEFAULT_TEMPLATE,
    team_dir: Path | None = None,
    metrics: ReportMetrics = NO_METRICS,
) -> str:
    """The report's body (an <article>) in `template`."""
    if template not in template_names(team_dir) or template.startswith("_"):
        raise UnknownTemplateError(
            f"no template named '{template}'; choose one of {', '.join(template_names(team_dir))}"
        )
    env = _environment(team_dir)
    try:
        return env.get_template(f"{template}.html").render(report_context(pm, metrics))
    except jinja2.TemplateError as error:
        line = getattr(error, "lineno", None)
        where = f" (line {line})" if line else ""
        raise UnknownTemplateError(
            f"template '{template}' could not be rendered{where}: {error.message}"
        ) from None


def standalone_html(
    pm: Postmortem,
    template: str = DEFAULT_TEMPLATE,
    team_dir: Path | None = None,
    metrics: ReportMetrics = NO_METRICS,
) -> str:
    """One HTML file: the report with its styles inlined; it loads nothing from anywhere."""
    env = _environment(team_dir)
    body = render_report(pm, template, team_dir, metrics)
    return env.get_template("_document.html").render(
        title=pm.title, body=Markup(body), css=Markup((_PACKAGE / "report.css").read_text())
    )


def _refuse(url: str) -> dict[str, Any]:
    raise ValueError(f"reports load nothing from outside ({url})")


def render_pdf(
    pm: Postmortem,
    template: str = DEFAULT_TEMPLATE,
    team_dir: Path | None = None,
    metrics: ReportMetrics = NO_METRICS,
) -> bytes:
    """The standalone HTML printed to PDF by WeasyPrint (no network access)."""
    import weasyprint

    html = weasyprint.HTML(
        string=standalone_html(pm, template, team_dir, metrics), url_fetcher=_refuse
    )
    pdf: bytes = html.write_pdf()
    return pdf
