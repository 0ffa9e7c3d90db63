"""`haetae postmortem ...` end to end: the real console script on a real database."""

from __future__ import annotations

import json

from haetae.cli.common import EXIT_AUTH, EXIT_CONFLICT, EXIT_INVALID


def _incident(haetae) -> str:
    return haetae(
        "declare --title 'Search is slow' --severity P3 --reason 'only search' --as alice"
    ).out.strip()


def test_start_edit_from_a_file_show_and_publish(haetae, tmp_path):
    for name in ("alice", "bob"):
        haetae(
            f"user create {name} --role responder --password-stdin",
            stdin="correct-horse-battery\n",
        )
    inc = _incident(haetae)
    assert haetae(f"postmortem start {inc} --as alice").out.strip() == inc
    haetae(f"postmortem start {inc} --as alice", expect=EXIT_CONFLICT)

    chain = [
        "Search timed out",
        "The index was cold",
        "A deploy dropped the cache",
        "The warm-up step was skipped",
        "It was never automated",
    ]
    edits = tmp_path / "pm.yaml"
    edits.write_text(
        "root_cause: The cache warm-up was manual\n"
        "whys:\n" + "".join(f"  - {w}\n" for w in chain) + "went_well: [fast rollback]\n"
        "lessons: 장애 대응 훈련을 분기마다 한다\n",
        encoding="utf-8",
    )
    haetae(f"postmortem edit {inc} --file {edits} --factor 'no alert on cache size' --as alice")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"caused_by": "bob"}), encoding="utf-8")
    refused = haetae(f"postmortem edit {inc} --file {bad}", expect=EXIT_INVALID)
    assert "caused_by" in refused.err

    shown = haetae(f"postmortem show {inc} --json").json()
    assert shown["whys"] == chain
    assert shown["root_cause"] == "The cache warm-up was manual"
    assert shown["contributing_factors"] == ["no alert on cache size"]
    assert shown["went_well"] == ["fast rollback"]
    assert shown["lessons"] == "장애 대응 훈련을 분기마다 한다"
    assert shown["basic"]["incident_id"] == inc and shown["status"] == "draft"

    code = haetae(f"postmortem measure {inc} --title 'Automate warm-up' --term mid --owner bob")
    assert code.out.strip().startswith("AI-")
    korean = haetae(f"postmortem show {inc} --lang ko").out
    assert "근본 원인 분석 (5 Whys)" in korean and "Automate warm-up" in korean

    haetae(f"postmortem publish {inc} --as alice", expect=EXIT_CONFLICT)  # no approval yet
    haetae(f"postmortem submit {inc} --reviewer bob --as alice")
    haetae(f"postmortem review {inc} --approve --as alice", expect=EXIT_AUTH)  # own one
    haetae(f"postmortem review {inc} --approve --comment 'good' --as bob")
    published = haetae(f"postmortem publish {inc} --as alice --json").json()
    assert published["status"] == "published"
    assert [(r["reviewer"], r["verdict"]) for r in published["reviews"]] == [("bob", "approved")]
    listed = haetae("postmortem list --status published --json").json()
    assert [p["incident_id"] for p in listed["items"]] == [inc]
    haetae(f"postmortem edit {inc} --lessons late --as alice", expect=EXIT_CONFLICT)
