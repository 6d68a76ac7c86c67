"""schemathesis against /openapi.json, with an admin token and a member token: no
5xx, and every response matches the documented status codes, content types and
schemas; data the document says is invalid is refused.

Path parameters naming a project are pinned to a throwaway project (so the
generated bodies reach the validation behind the tenant check, and whatever an
accepted request creates stays there); ``make fuzz`` also lets schemathesis
choose them, with many more examples: ``KINGBIRD_FUZZ_EXAMPLES`` (default 3 in
the suite) and ``KINGBIRD_FUZZ_FREE=1``.

The one 5xx allowed is the documented 503 of the Fernet key routes when
``[fernet] master_key`` is not set (the demo sets it).
"""

from __future__ import annotations

import os

import pytest
from api_security_support import kb, people  # noqa: F401 (fixtures)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import checks as st_checks  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

pytestmark = pytest.mark.functional

EXAMPLES = int(os.environ.get("KINGBIRD_FUZZ_EXAMPLES", "3"))
FREE = os.environ.get("KINGBIRD_FUZZ_FREE") == "1"
CHECKS = [st_checks.status_code_conformance, st_checks.content_type_conformance,
          st_checks.response_schema_conformance, st_checks.response_headers_conformance,
          st_checks.negative_data_rejection]


def _allowed_5xx(operation, response) -> bool:
    if response.status_code != 503 or "fernet_keys" not in (operation.tags or []):
        return False
    return "master_key" in response.text


def _explore(strategy, check) -> None:
    """Run ``check`` on up to EXAMPLES cases drawn from ``strategy``."""

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
              derandomize=not FREE, suppress_health_check=list(HealthCheck))
    def run(case):
        check(case)

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to make invalid (no parameters, no body)


@pytest.fixture(scope="module")
def schema(cloud):
    return schemathesis.openapi.from_url(cloud.kingbird_root + "/openapi.json")


@pytest.mark.parametrize("caller", ["admin", "member"])
def test_the_api_answers_generated_requests_as_documented(cloud, schema, people,  # noqa: F811
                                                          caller):
    token = people.tokens[caller]
    pinned = {"tenant": people.victim, "project_id": people.victim,
              "class_name": "fuzz-class"}
    failures: list[str] = []

    def checker(operation, mode):
        def check(case):
            response = case.call(base_url=cloud.kingbird_root,
                                  headers={"X-Auth-Token": token}, timeout=60)
            where = f"{operation.label} [{mode.value}]"
            if response.status_code >= 500 and not _allowed_5xx(operation, response):
                failures.append(f"{where}: {response.status_code} {response.text[:200]}")
                return
            try:
                case.validate_response(response, checks=CHECKS)
            except BaseException as exc:  # schemathesis raises an exception group
                failures.append(f"{where}: {str(exc).strip()[:400]}")
        return check

    for result in schema.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        variants = [{k: v for k, v in pinned.items() if k in names}]
        if FREE and names:
            variants.append({})
        for fixed in variants:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(generation_mode=mode,
                                                 path_parameters=fixed or None)
                _explore(strategy, checker(operation, mode))
    assert not failures, "\n\n".join(dict.fromkeys(failures))
