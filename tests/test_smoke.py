def test_declared_incident_comes_back_by_id(api):
    created = api.post("/api/v1/incidents", json={"title": "Login fails", "business_impact": "revenue", "user_impact": "all"})
    assert created.status_code == 201, created.text
    got = api.get(f"/api/v1/incidents/{created.json()['id']}")
    assert got.json()["severity"] == "P1"
