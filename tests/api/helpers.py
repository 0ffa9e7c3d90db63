"""Small factories for API tests."""

from __future__ import annotations

from typing import Any

import httpx


def declare(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"title": "Checkout returns 502", "business_impact": "revenue", "user_impact": "all"}
    body.update(fields)
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def move(api: httpx.Client, incident_id: str, to: str, **extra: Any) -> httpx.Response:
    if to == "resolved":
        extra.setdefault("summary", "Fixed by the responders")  # resolving asks how
    return api.post(f"/api/v1/incidents/{incident_id}/transitions", json={"to": to, **extra})


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])
