"""The git importer on a real local repository: first-parent history of the deployed branch,
in a time window, with config changes recognised by the patterns given."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hindsight.domain.timeline import EventKind
from hindsight.importers.base import EvidenceError, ImportOptions, NoProgress, Source
from hindsight.importers.registry import read_all

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo: Path, *args: str, when: str = "2018-01-18T15:53:12+01:00") -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Tim Head",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "Tim Head",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "deploy"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("deploy repo\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Start", when="2018-01-17T10:00:00+01:00")
    _git(repo, "checkout", "-q", "-b", "staging")
    (repo / "config").mkdir()
    (repo / "config" / "prod.yaml").write_text("ingress:\n  replicas: 10\n")
    _git(repo, "add", ".")
    _git(
        repo,
        "commit",
        "-q",
        "-m",
        "Increase number of ingress replicas to ten",
        when="2018-01-18T15:34:00+01:00",
    )
    _git(repo, "checkout", "-q", "main")
    _git(repo, "merge", "-q", "--no-ff", "staging", "-m", "Merge pull request #287 from staging")
    return repo


def test_merges_to_the_deployed_branch_become_deploys_with_their_config_changes(
    repo: Path,
) -> None:
    options = ImportOptions(
        since=dt.datetime(2018, 1, 18, tzinfo=dt.UTC), config_patterns=("config/*.yaml",)
    )
    (merge,) = read_all("git", Source.open(repo), options, NoProgress())
    assert merge.event.kind is EventKind.DEPLOY
    assert merge.event.at == dt.datetime(2018, 1, 18, 14, 53, 12, tzinfo=dt.UTC)
    assert merge.event.zone == "+01:00"
    assert "Merge pull request #287 from staging — config change: config/prod.yaml" in (
        merge.event.text
    )
    assert merge.event.actor == "Tim Head"
    assert (
        options.skipped == {}
    )  # git itself applied the window: the branch commit is not first-parent


def test_an_unknown_branch_is_reported_with_gits_own_words(repo: Path) -> None:
    with pytest.raises(
        EvidenceError, match=r"git log failed: fatal: bad revision .production.; check --branch"
    ):
        read_all("git", Source.open(repo), ImportOptions(branch="production"), NoProgress())


def test_a_bare_repository_is_read_like_a_working_tree(repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "deploy.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    options = ImportOptions(since=dt.datetime(2018, 1, 18, tzinfo=dt.UTC))
    (merge,) = read_all("git", Source.open(bare), options, NoProgress())
    assert "Merge pull request #287 from staging" in merge.event.text


def test_a_revision_range_limits_the_commits(repo: Path) -> None:
    found = read_all("git", Source.open(repo), ImportOptions(branch="main~1..main"), NoProgress())
    assert [e.event.kind for e in found] == [EventKind.DEPLOY]
    everything = read_all("git", Source.open(repo), ImportOptions(branch="main"), NoProgress())
    assert len(everything) == 2
