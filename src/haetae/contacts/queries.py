"""Reading external contacts: the list, one by slug, and their contact methods (URLs masked)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.contacts.models import ExternalContact
from haetae.contacts.schemas import ContactMethodView, ExternalContactOut
from haetae.errors import HaetaeError
from haetae.people.models import ContactMethod
from haetae.people.service import mask_url


def find_contact(session: Session, slug: str) -> ExternalContact | None:
    return session.scalars(select(ExternalContact).where(ExternalContact.slug == slug)).first()


def get_contact(session: Session, slug: str) -> ExternalContact:
    contact = find_contact(session, slug)
    if contact is None:
        raise HaetaeError("NOT_FOUND", f"No external contact has the slug '{slug}'.")
    return contact


def list_contacts(session: Session, *, enabled_only: bool = False) -> list[ExternalContact]:
    query = select(ExternalContact).order_by(ExternalContact.slug)
    if enabled_only:
        query = query.where(ExternalContact.enabled.is_(True))
    return list(session.scalars(query))


def methods_of(session: Session, contact_ids: list[int]) -> dict[int, list[ContactMethod]]:
    """Each contact's methods in order (position, then id), in one query."""
    found: dict[int, list[ContactMethod]] = defaultdict(list)
    if not contact_ids:
        return found
    rows = session.scalars(
        select(ContactMethod)
        .where(ContactMethod.external_contact_id.in_(contact_ids))
        .order_by(ContactMethod.position, ContactMethod.id)
    )
    for row in rows:
        found[row.external_contact_id or 0].append(row)
    return found


def contact_out(contact: ExternalContact, methods: list[ContactMethod]) -> ExternalContactOut:
    """A contact as the API, the CLI and the console show it: the URLs masked."""
    return ExternalContactOut(
        slug=contact.slug,
        name=contact.name,
        kind=contact.kind,
        support_plan=contact.support_plan,
        sla_tier=contact.sla_tier,
        notes=contact.notes,
        language=contact.language,
        enabled=contact.enabled,
        contact_methods=[
            ContactMethodView(name=m.name, kind=m.kind, url=mask_url(m.url), enabled=m.enabled)
            for m in methods
        ],
        updated_at=contact.updated_at,
    )


def contacts_out(session: Session) -> list[ExternalContactOut]:
    contacts = list_contacts(session)
    methods = methods_of(session, [c.id for c in contacts])
    return [contact_out(c, methods.get(c.id, [])) for c in contacts]


def contact_detail(session: Session, slug: str) -> ExternalContactOut:
    contact = get_contact(session, slug)
    return contact_out(contact, methods_of(session, [contact.id]).get(contact.id, []))
