"""schemathesis against each service's OpenAPI document, over HTTP with real tokens (reliability S4, §6.5).

Every operation of every document (gateway, intake, approval, payment, reporting) is called with
generated data (valid and invalid) as the role that owns it, and each answer is checked: no 5xx,
a content type and body that match the document for the statuses it declares, and the JSON
error shape for every refusal.  The checks are schemathesis' own plus ``error_shape``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

THAI = re.compile("[\u0e01-\u0e5b]")

#: Who calls an operation: the first rule whose path fragment matches (else the service default).
ROLE_RULES: tuple[tuple[str, str], ...] = (
    ("/ops/", "operator"),
    ("/admin/", "central.admin"),
    ("/welfare-types", "central.admin"),
    ("/programmes", "central.admin"),
    ("/budgets", "central.admin"),
    ("/templates", "head.1008"),
    ("/api/approval/", "head.1008"),
    ("/api/payment/", "finance.1008"),
    ("/api/reporting/", "finance.1008"),
)
DEFAULT_ROLE = "officer.1008"
#: Operations left out, and why.
SKIPPED = {
    ("POST", "/api/approval/batches"): "a valid call closes the agenda (the corpus covers bad ones)",
    ("POST", "/api/intake/ops/probe"): "publishes probe messages to the queues (corpus covers bad ones)",
    ("POST", "/api/approval/ops/probe"): "publishes probe messages to the queues (corpus covers bad ones)",
    ("POST", "/api/payment/ops/probe"): "publishes probe messages to the queues (corpus covers bad ones)",
    ("POST", "/api/reporting/ops/probe"): "publishes probe messages to the queues (corpus covers bad ones)",
    ("POST", "/api/auth/token"): "failed logins are throttled per address (corpus covers bad bodies)",
}


def role_for(path: str) -> str:
    return next((role for fragment, role in ROLE_RULES if fragment in path), DEFAULT_ROLE)


def error_shape(ctx: CheckContext, response: Any, case: Case) -> bool | None:
    """Every 4xx/5xx answer is the CONTRACT's JSON error with a Thai message."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except Exception:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.text[:200]!r}") from None
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"no error object: {body!r}"[:300]
    assert isinstance(error.get("code"), str), f"no error code: {body!r}"[:300]
    assert THAI.search(str(error.get("message"))), f"message not in Thai: {body!r}"[:300]
    return True


CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]


@dataclass
class Report:
    operations: int = 0
    calls: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)


def run(base_url: str, tokens: dict[str, str], services: tuple[str, ...], max_examples: int) -> Report:
    """Fuzz every operation of each service's document through the gateway; collect failures."""
    report = Report()
    for service in services:
        schema = schemathesis.openapi.from_url(f"{base_url}/api/{service}/openapi.json")
        for result in schema.get_all_operations():
            operation = result.ok()
            key = (operation.method.upper(), operation.path)
            if key in SKIPPED:
                report.skipped[f"{key[0]} {key[1]}"] = SKIPPED[key]
                continue
            report.operations += 1
            headers = {"Authorization": f"Bearer {tokens[role_for(operation.path)]}"}
            _fuzz_operation(operation, base_url, headers, max_examples, report)
    return report


def _fuzz_operation(
    operation: Any, base_url: str, headers: dict[str, str], max_examples: int, report: Report
) -> None:
    seen: list[str] = []

    @settings(
        max_examples=max_examples,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=operation.as_strategy())
    def call(case: Case) -> None:
        report.calls += 1
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        if response.status_code >= 500:
            report.server_errors.append(f"{case.method} {case.formatted_path}: {response.status_code}")
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # a FailureGroup, or one failure
            for failure in getattr(exc, "exceptions", [exc]):
                lines = [line.strip() for line in str(failure).splitlines() if line.strip()]
                summary = " | ".join(lines[:2])[:240] or type(failure).__name__
                if summary not in seen:
                    seen.append(summary)
                    report.failures.append(
                        f"{case.method} {case.formatted_path}: {response.status_code}: {summary}"
                    )

    call()
