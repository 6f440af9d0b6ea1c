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
STYLESHEET = "feed.xsl"  # beside feed.xml

# XSLT 1.0 turning the feed into a plain HTML list in the browser. Every value is output as text (never with
# disable-output-escaping), so a lesson title stays text; links are the feed's own.
FEED_XSL = """<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:a="http://www.w3.org/2005/Atom">
  <xsl:output method="html" encoding="utf-8" indent="yes"/>
  <xsl:template match="/a:feed">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="a:title"/></title>
        <style>
          body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }
          .note { background: #eef1fb; border-left: 4px solid #3f51b5; padding: .6rem 1rem; }
          li { margin-bottom: 1rem; } .date { color: #666; font-size: .9em; }
        </style>
      </head>
      <body>
        <h1><xsl:value-of select="a:title"/></h1>
        <p class="note">This is a news feed. Copy its address into a feed reader to be told about new lessons;
        below are the latest ones.</p>
        <ul>
          <xsl:for-each select="a:entry">
            <li>
              <a href="{a:link/@href}"><xsl:value-of select="a:title"/></a>
              <span class="date"> (<xsl:value-of select="substring(a:updated, 1, 10)"/>)</span>
              <br/><xsl:value-of select="a:summary"/>
            </li>
          </xsl:for-each>
        </ul>
        <p><a href="{a:link[@rel='alternate']/@href}">Back to the site</a></p>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
"""


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
    # The stylesheet instruction makes a browser show the feed as a readable page; feed readers ignore it.
    head = f'<?xml version="1.0" encoding="utf-8"?>\n<?xml-stylesheet type="text/xsl" href="{STYLESHEET}"?>\n'
    return (head + ET.tostring(feed, encoding="unicode")).encode("utf-8")
