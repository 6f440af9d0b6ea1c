"""The vocabulary of the knowledge base without the schema machinery: taxonomy, fixed choices, country codes.

Light to import (no pydantic), so the query path can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TaxonomyError

SCHEMA_VERSION = 1
SLUG_RE = r"^[a-z0-9]+(-[a-z0-9]+)*$"
LANG_RE = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
OUTCOMES: tuple[str, ...] = ("success", "partial", "failure", "abandoned", "ongoing")
SIZES: tuple[str, ...] = ("micro", "small", "medium")
SIZE_LABELS = {"micro": "Micro (fewer than 10 staff)", "small": "Small (10-49 staff)", "medium": "Medium (50-249 staff)"}

# ISO 3166-1 alpha-2 (249 assigned codes) plus XK, the code in common use for Kosovo.
COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
    BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET
    FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM
    IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD
    ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST
    SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS
    XK YE YT ZA ZM ZW""".split()
)



@dataclass
class Taxonomy:
    """The knowledge base's vocabulary: slug -> display name."""

    sectors: dict[str, str] = field(default_factory=dict)
    technologies: dict[str, str] = field(default_factory=dict)
    business_functions: dict[str, str] = field(default_factory=dict)
    path: Path | None = None


def load_taxonomy(path: Path) -> Taxonomy:
    """Load `lessons/taxonomy.yml`; raise TaxonomyError naming the file and problem."""
    from . import safeyaml

    if not path.is_file():
        raise TaxonomyError(f"{path}: taxonomy file not found; every knowledge base needs one (see docs/contributing.md)")
    try:
        data = safeyaml.load(path.read_text(encoding="utf-8")).data
    except (safeyaml.YamlProblem, UnicodeDecodeError, OSError) as exc:
        line = getattr(exc, "line", 0) + 1
        raise TaxonomyError(f"{path}:{line}: cannot read taxonomy: {exc}") from None
    if not isinstance(data, dict):
        raise TaxonomyError(f"{path}: taxonomy must be a mapping with sectors, technologies and business_functions")
    taxonomy = Taxonomy(path=path)
    for section in ("sectors", "technologies", "business_functions"):
        entries = data.get(section)
        if not isinstance(entries, dict) or not entries:
            raise TaxonomyError(f"{path}: '{section}' must be a non-empty mapping of slug: name")
        names: dict[str, str] = {}
        for slug, value in entries.items():
            if not isinstance(slug, str) or not re.match(SLUG_RE, slug):
                raise TaxonomyError(f"{path}: {section}: '{slug}' is not a kebab-case slug")
            name = value.get("name") if isinstance(value, dict) else value
            names[slug] = str(name) if name else slug
        setattr(taxonomy, section, names)
    return taxonomy
