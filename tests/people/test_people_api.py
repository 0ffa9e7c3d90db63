"""People over HTTP: profiles, contact methods (masked), notification rules, permissions."""

from __future__ import annotations

from haetae.db import Database
from haetae.notify.models import Notification
from haetae.people.models import ContactMethod
from tests.api.helpers import error_code

MAIL = "mailto://127.0.0.1:2525?from=haetae@example.com&to=kim@example.com&mode=insecure"
SLACK = "slack://T0SECRET1/B0SECRET2/C0SECRET3"
HOOK = "json://hooks.example.com:8080/page/secret-path"
MAIL_WITH_PASSWORD = "mailto://kim:hunter22@mail.example.com"


def test_a_user_edits_their_time_zone_and_locale_and_bad_values_are_refused(as_user):
    kim = as_user("kim")
    r = kim.patch("/api/v1/users/kim/profile", json={"time_zone": "America/New_York"})
    assert r.status_code == 200, r.text
    assert (r.json()["time_zone"], r.json()["locale"]) == ("America/New_York", "en")
    r = kim.patch("/api/v1/users/kim/profile", json={"locale": "ko", "display_name": "김"})
    assert (r.json()["locale"], r.json()["display_name"], r.json()["time_zone"]) == (
        "ko",
        "김",
        "America/New_York",
    )
    bad_zone = kim.patch("/api/v1/users/kim/profile", json={"time_zone": "Mars/Olympus"})
    assert bad_zone.status_code == 422
    assert error_code(bad_zone) == "VALIDATION_ERROR"
    assert "IANA" in bad_zone.json()["error"]["message"]
    bad_locale = kim.patch("/api/v1/users/kim/profile", json={"locale": "fr"})
    assert bad_locale.status_code == 422
    cleared = kim.patch("/api/v1/users/kim/profile", json={"time_zone": None})
    assert cleared.json()["time_zone"] is None
    assert kim.get("/api/v1/users/kim/profile").json()["locale"] == "ko"


def test_contact_method_urls_are_masked_in_every_answer(as_user, db: Database):
    kim = as_user("kim")
    made = {}
    for name, url in [("mail", MAIL), ("slack", SLACK), ("hook", HOOK), ("pw", MAIL_WITH_PASSWORD)]:
        r = kim.post("/api/v1/users/kim/contact-methods", json={"name": name, "url": url})
        assert r.status_code == 201, r.text
        made[name] = r.json()
    assert made["mail"]["url"] == "mailto://127.0.0.1:2525/***"
    assert made["slack"]["url"] == "slack://***"
    assert made["hook"]["url"] == "json://hooks.example.com:8080/***"
    assert made["pw"]["url"] == "mailto://***@mail.example.com"
    assert [m["kind"] for m in made.values()] == ["mailto", "slack", "json", "mailto"]
    listed = kim.get("/api/v1/users/kim/contact-methods")
    assert [m["position"] for m in listed.json()] == [0, 1, 2, 3]
    for secret in ("SECRET", "hunter22", "secret-path", "kim@example.com"):
        assert secret not in listed.text
    # The full URL is kept for delivery.
    with db.session(write=False) as session:
        stored = {m.name: m.url for m in session.query(ContactMethod)}
    assert stored["slack"] == SLACK


def test_contact_methods_are_edited_reordered_disabled_and_deleted(as_user):
    kim = as_user("kim")
    mail = kim.post("/api/v1/users/kim/contact-methods", json={"name": "mail", "url": MAIL}).json()
    hook = kim.post("/api/v1/users/kim/contact-methods", json={"name": "hook", "url": HOOK}).json()
    r = kim.patch(
        f"/api/v1/users/kim/contact-methods/{hook['id']}", json={"position": 0, "enabled": False}
    )
    assert (r.json()["position"], r.json()["enabled"]) == (0, False)
    kim.patch(f"/api/v1/users/kim/contact-methods/{mail['id']}", json={"position": 1})
    names = [m["name"] for m in kim.get("/api/v1/users/kim/contact-methods").json()]
    assert names == ["hook", "mail"]
    clash = kim.patch(f"/api/v1/users/kim/contact-methods/{hook['id']}", json={"name": "mail"})
    assert clash.status_code == 409
    assert kim.delete(f"/api/v1/users/kim/contact-methods/{hook['id']}").status_code == 204
    gone = kim.get(f"/api/v1/users/kim/contact-methods/{hook['id']}")
    assert gone.status_code == 404


def test_a_url_apprise_cannot_use_is_refused_without_echoing_it(as_user):
    kim = as_user("kim")
    for url in ["not a url", "bogus://T0SECRET", "msteams://T0SECRET"]:
        r = kim.post("/api/v1/users/kim/contact-methods", json={"name": "x", "url": url})
        assert r.status_code == 422, (url, r.text)
        assert error_code(r) == "VALIDATION_ERROR"
        assert "T0SECRET" not in r.text
    assert kim.get("/api/v1/users/kim/contact-methods").json() == []


def test_a_responder_manages_only_their_own_contact_methods_and_admins_anyones(as_user, api):
    kim = as_user("kim")
    lee = as_user("lee")
    mine = kim.post("/api/v1/users/kim/contact-methods", json={"name": "mail", "url": MAIL})
    assert mine.status_code == 201
    method_id = mine.json()["id"]
    for call in [
        lee.get("/api/v1/users/kim/contact-methods"),
        lee.post("/api/v1/users/kim/contact-methods", json={"name": "evil", "url": HOOK}),
        lee.patch(f"/api/v1/users/kim/contact-methods/{method_id}", json={"enabled": False}),
        lee.delete(f"/api/v1/users/kim/contact-methods/{method_id}"),
        lee.patch("/api/v1/users/kim/profile", json={"locale": "ko"}),
        lee.post(f"/api/v1/users/kim/contact-methods/{method_id}/test"),
    ]:
        assert call.status_code == 403, call.text
        assert error_code(call) == "FORBIDDEN"
    # An admin manages anyone's.
    r = api.post("/api/v1/users/lee/contact-methods", json={"name": "hook", "url": HOOK})
    assert r.status_code == 201
    assert [m["name"] for m in lee.get("/api/v1/users/lee/contact-methods").json()] == ["hook"]
    assert api.patch("/api/v1/users/kim/profile", json={"locale": "ko"}).json()["locale"] == "ko"


def test_a_viewer_reads_but_cannot_write(as_user):
    vera = as_user("vera", role="viewer")
    assert vera.get("/api/v1/users/vera/contact-methods").status_code == 200
    for call in [
        vera.post("/api/v1/users/vera/contact-methods", json={"name": "mail", "url": MAIL}),
        vera.patch("/api/v1/users/vera/profile", json={"locale": "ko"}),
        vera.post("/api/v1/teams", json={"id": "sre"}),
        vera.post("/api/v1/services", json={"id": "api"}),
        vera.post("/api/v1/escalation-policies", json={"id": "x", "steps": [{"notify": []}]}),
    ]:
        assert call.status_code == 403, call.text
    assert vera.get("/api/v1/teams").status_code == 200
    assert vera.get("/api/v1/services").status_code == 200
    assert vera.get("/api/v1/escalation-policies").status_code == 200


def test_test_notification_is_queued_for_the_worker(as_user, db: Database):
    kim = as_user("kim")
    method = kim.post("/api/v1/users/kim/contact-methods", json={"name": "hook", "url": HOOK})
    r = kim.post(f"/api/v1/users/kim/contact-methods/{method.json()['id']}/test")
    assert r.status_code == 202, r.text
    with db.session(write=False) as session:
        queued = session.get(Notification, r.json()["notification_id"])
        assert queued is not None
        assert (queued.contact_method_id, queued.kind) == (method.json()["id"], "test")


def test_notification_rules_say_which_method_after_how_many_minutes(as_user):
    kim = as_user("kim")
    mail = kim.post("/api/v1/users/kim/contact-methods", json={"name": "mail", "url": MAIL}).json()
    hook = kim.post("/api/v1/users/kim/contact-methods", json={"name": "hook", "url": HOOK}).json()
    base = "/api/v1/users/kim/notification-rules"
    later = kim.post(base, json={"contact_method_id": hook["id"], "delay_minutes": 5})
    assert later.status_code == 201, later.text
    first = kim.post(base, json={"contact_method_id": mail["id"], "delay_minutes": 0})
    rules = kim.get(base).json()
    assert [(r["contact_method"], r["delay_minutes"]) for r in rules] == [("mail", 0), ("hook", 5)]
    again = kim.post(base, json={"contact_method_id": mail["id"], "delay_minutes": 0})
    assert again.status_code == 409
    lee = as_user("lee")
    theirs = lee.post(
        "/api/v1/users/lee/notification-rules",
        json={"contact_method_id": mail["id"], "delay_minutes": 0},
    )
    assert theirs.status_code == 422  # not lee's contact method
    assert kim.delete(f"{base}/{first.json()['id']}").status_code == 204
    assert [r["contact_method"] for r in kim.get(base).json()] == ["hook"]
    # Deleting a contact method takes its rules with it.
    kim.delete(f"/api/v1/users/kim/contact-methods/{hook['id']}")
    assert kim.get(base).json() == []
