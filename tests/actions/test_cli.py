"""`haetae actions ...` and `haetae board` end to end: the real script on a real database."""

from __future__ import annotations

from haetae.cli.common import EXIT_CONFLICT, EXIT_INVALID, EXIT_NOT_FOUND
from tests.cli.conftest import Haetae


def test_add_edit_assign_move_and_list_items_from_the_command_line(haetae: Haetae) -> None:
    haetae("user create alice --password-stdin", stdin="correct-horse-battery\n")
    incident = haetae("declare --title 'Checkout fails' --severity P2 --reason r").out.strip()
    code = haetae(
        f"actions add --title 'Add a canary step' --incident {incident} --owner alice "
        "--due 2000-01-01 --priority high --tracker https://tracker.example/OPS-1"
    ).out.strip()
    assert code == "AI-001"
    item = haetae(f"actions show {code} --json").json()
    assert (item["class_of_service"], item["owner"], item["overdue"]) == ("expedite", "alice", True)
    shown = haetae(f"actions show {code}").out
    assert "Add a canary step" in shown and "OVERDUE" in shown

    haetae(f"actions edit {code} --title 'Canary at 10%' --priority low --due none")
    assert haetae(f"actions show {code} --json").json()["title"] == "Canary at 10%"
    haetae(f"actions assign {code} none")
    assert haetae(f"actions show {code} --json").json()["owner"] is None
    assert "In Progress" in haetae(f"actions move {code} in_progress").out

    haetae("actions add --title '[db] Standard one' --class standard")
    listed = haetae("actions list --column in_progress --json").json()
    assert [i["code"] for i in listed["items"]] == [code]
    table = haetae("actions list").out
    assert "AI-001" in table and "AI-002" in table
    assert "[db] Standard one" in table  # a title is printed as written, not as Rich markup
    assert [i["code"] for i in haetae("actions list --class standard --json").json()["items"]] == [
        "AI-002"
    ]

    board = haetae("board --json").json()
    lanes = {lane["id"]: lane for lane in board["lanes"]}
    progress = next(c for c in lanes["action_items"]["columns"] if c["id"] == "in_progress")
    assert [c["code"] for c in progress["cards"]] == [code]
    printed = haetae("board").out
    assert "Incident Action Items" in printed and f"{incident}" in printed

    haetae("actions show AI-404", expect=EXIT_NOT_FOUND)
    haetae("actions add --title x --owner ghost", expect=EXIT_INVALID)
    haetae("actions add --title x --tracker ftp://example.com/x", expect=EXIT_INVALID)
    haetae(f"actions move {code} sideways", expect=EXIT_INVALID)


def test_a_move_past_the_wip_limit_exits_with_a_clear_message(haetae: Haetae) -> None:
    for n in range(5):
        haetae(f"actions add --title 'busy {n}' --class standard --column in_progress")
    late = haetae("actions add --title 'one more' --class standard").out.strip()
    refused = haetae(f"actions move {late} in_progress", expect=EXIT_CONFLICT)
    assert "WIP_LIMIT_REACHED" in refused.err and "WIP limit 5" in refused.err
    urgent = haetae("actions add --title 'urgent' --class expedite").out.strip()
    haetae(f"actions move {urgent} in_progress")
