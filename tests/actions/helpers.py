"""Small factories for the action item and board tests."""

from __future__ import annotations

from typing import Any

import httpx


def add_item(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"title": "Add a canary step to the deploy"}
    body.update(fields)
    response = api.post("/api/v1/action-items", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def move(api: httpx.Client, ref: str, column: str, **extra: Any) -> httpx.Response:
    return api.post(f"/api/v1/action-items/{ref}/move", json={"column": column, **extra})


def column_codes(board: dict[str, Any], lane: str, column: str) -> list[str]:
    found = next(x for x in board["lanes"] if x["id"] == lane)
    return [c["code"] for c in next(c for c in found["columns"] if c["id"] == column)["cards"]]
