"""The status page's Atom and RSS feeds of public incidents and maintenance windows, written
with ElementTree so every text is escaped by the XML writer, never by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from xml.etree import ElementTree as ET

from haetae.i18n import N_, gettext_for
from haetae.statuspage.public import IncidentView, MaintenanceView, text_in
from haetae.statuspage.public_api import Shape

ATOM = "http://www.w3.org/2005/Atom"
STATUS_WORDS = {
    "investigating": N_("Investigating"),
    "identified": N_("Identified"),
    "monitoring": N_("Monitoring"),
    "resolved": N_("Resolved"),
    "postmortem": N_("Post-incident review"),
    "scheduled": N_("Scheduled"),
    "in_progress": N_("In progress"),
    "verifying": N_("Verifying"),
    "completed": N_("Completed"),
}


def _entries(shape: Shape) -> list[tuple[datetime, IncidentView | MaintenanceView]]:
    m = shape.model
    found: list[tuple[datetime, IncidentView | MaintenanceView]] = [
        (i.updated_at, i) for i in m.incidents
    ]
    found += [(x.updated_at, x) for x in m.maintenances]
    found.sort(key=lambda pair: pair[0], reverse=True)
    return found


def _summary_html(shape: Shape, item: IncidentView | MaintenanceView) -> str:
    """The item's updates as a little HTML, newest first (feed readers show it as is)."""

    def say(word: str) -> str:
        return gettext_for(shape.locale, STATUS_WORDS.get(word, word))

    if isinstance(item, IncidentView):
        parts = [
            f"<p><small>{escape(shape.time(u.at) or '')}</small><br>"
            f"<strong>{escape(say(u.status))}</strong> - {escape(text_in(u.body, shape.locale))}"
            "</p>"
            for u in item.updates
        ]
        return "".join(parts)
    window = f"{shape.time(item.scheduled_for)} – {shape.time(item.scheduled_until)}"
    return (
        f"<p><small>{escape(window)}</small><br><strong>{escape(say(item.status))}</strong>"
        f" - {escape(text_in(item.body, shape.locale))}</p>"
    )


def atom(shape: Shape, *, self_url: str) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": shape.locale})
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"{shape.url}/history.atom"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = shape.title()
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = shape.time(shape.model.page.updated_at)
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "alternate", "href": shape.url})
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": self_url})
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = shape.title()
    for updated, item in _entries(shape):
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        link = shape.incident_url(item.code)
        ET.SubElement(entry, f"{{{ATOM}}}id").text = link
        ET.SubElement(entry, f"{{{ATOM}}}title").text = text_in(item.title, shape.locale)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = shape.time(updated)
        ET.SubElement(entry, f"{{{ATOM}}}published").text = shape.time(item.created_at)
        ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "href": link})
        content = ET.SubElement(entry, f"{{{ATOM}}}content", {"type": "html"})
        content.text = _summary_html(shape, item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")


def rss(shape: Shape, *, self_url: str) -> bytes:
    root = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM})
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = shape.title()
    ET.SubElement(channel, "link").text = shape.url
    ET.SubElement(channel, "description").text = shape.title()
    ET.SubElement(channel, "language").text = shape.locale
    ET.SubElement(channel, "lastBuildDate").text = _rfc822(shape.model.page.updated_at)
    ET.SubElement(
        channel,
        "atom:link",
        {"href": self_url, "rel": "self", "type": "application/rss+xml"},
    )
    for updated, item in _entries(shape):
        node = ET.SubElement(channel, "item")
        link = shape.incident_url(item.code)
        ET.SubElement(node, "title").text = text_in(item.title, shape.locale)
        ET.SubElement(node, "link").text = link
        ET.SubElement(node, "guid", {"isPermaLink": "true"}).text = link
        ET.SubElement(node, "pubDate").text = _rfc822(updated)
        ET.SubElement(node, "description").text = _summary_html(shape, item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _rfc822(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)
