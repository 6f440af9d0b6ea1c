"""The Atom feed of the latest lessons (RFC 4287), built with ElementTree so every value is escaped."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from ..core.characters import for_xml

if TYPE_CHECKING:
    from ..core.lesson import Lesson
    from .options import SiteOptions

ATOM = "http://www.w3.org/2005/Atom"


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def atom_feed(lessons: list[Lesson], options: SiteOptions) -> bytes:
    """Atom XML for `lessons` (newest first). Links are absolute when the site URL is known, relative otherwise."""
    ET.register_namespace("", ATOM)
    base = options.site_url.rstrip("/") + "/" if options.site_url else ""
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = for_xml(f"{options.site_name}: latest lessons")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = base + "feed.xml" if base else "urn:lessons-kb:feed"
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _stamp(max((lesson.meta.date for lesson in lessons), default=options.today))
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=base + "feed.xml" if base else "feed.xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=base or "./")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = for_xml(options.site_name)
    for lesson in lessons:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = for_xml(lesson.meta.title)  # XML forbids most controls
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"{base}lessons/{lesson.id}/" if base else f"urn:lessons-kb:lesson:{lesson.id}"
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _stamp(lesson.meta.date)
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=f"{base}lessons/{lesson.id}/")
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = for_xml(lesson.meta.summary)
        for tech in lesson.meta.technologies:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=tech)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
