"""The CLI takes a category or role by its display name, as the API does, and still refuses
what the policy does not know."""

from __future__ import annotations

from haetae.cli.common import EXIT_INVALID


def test_declare_and_role_take_display_names_in_either_language(haetae):
    incident = haetae(
        "declare --title 'Login fails' --business-impact revenue --user-impact many "
        "--category 애플리케이션"
    ).out.strip()
    assert haetae(f"role {incident} 'Incident Commander' minji").out.strip() == (
        f"{incident}: ic is minji"
    )
    record = haetae(f"incidents show {incident} --json").json()
    assert (record["category"], record["roles"]) == ("application", {"ic": "minji"})
    refused = haetae(f"role {incident} janitor jun", expect=EXIT_INVALID)
    assert "UNKNOWN_ROLE" in refused.err
