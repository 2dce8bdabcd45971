"""Schemathesis against the published OpenAPI schema: no input makes the API fail with a 5xx,
and every error answer is in the documented shape (docs/api.md).

Cases are drawn from each operation's strategy directly (schemathesis' pytest plugin does not
support this pytest), a bounded number per operation.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from hindsight.config import Settings
from hindsight.services.accounts import create_token, create_user
from hindsight.services.database import Database
from hindsight.services.demo import load_demo
from hindsight.web.app import create_app

EXAMPLES_PER_OPERATION = 12


def _documented_error(response: Any) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and set(body) == {"error"}
        and isinstance(body["error"], dict)
        and isinstance(body["error"].get("message"), str)
        and set(body["error"]) <= {"message", "field", "current_version"}
    )


def test_no_request_makes_the_api_fail(fresh_database: Database) -> None:
    with fresh_database.transaction() as session:
        actor = create_user(session, username="fuzzer", password="fuzzing password 1")
        token = {"Authorization": f"Bearer {create_token(session, actor=actor, name='fuzz')}"}
        load_demo(session, author="fuzzer", if_empty=True)
    app = create_app(Settings(database_url="unused://"), fresh_database)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    shapes: list[str] = []
    statuses: list[int] = []

    def fuzz(operation: Any) -> None:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call(headers=token)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} "
                    f"{response.text[:200]}"
                )
            if response.status_code >= 400 and not _documented_error(response):
                shapes.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} "
                    f"{response.text[:200]}"
                )

        run()

    for operation in operations:
        fuzz(operation)
    assert failures == []
    assert shapes == []
    # The run really exercised the API: many calls, and most got past authentication.
    assert len(statuses) > 5 * len(operations)
    assert sum(status != 401 for status in statuses) > len(statuses) // 2
    assert any(200 <= status < 300 for status in statuses)
