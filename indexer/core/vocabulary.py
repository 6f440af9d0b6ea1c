"""The one definition of the knowledge base's fixed vocabulary: choices, labels, patterns, limits, facets and
section headings. The schema, the CLI choices, the issue form, the search filters and the site all derive
from the names below; nothing else spells them out.

Light to import (no pydantic), so the query path can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

SCHEMA_VERSION = 1

# --- fixed choices: the Literal types are the definition, the tuples are read from them ----------------------

Outcome = Literal["success", "partial", "failure", "abandoned", "ongoing"]
CompanySize = Literal["micro", "small", "medium"]
AdoptionPhase = Literal["explore", "select", "procure", "implement", "operate", "retire"]
WouldDoAgain = Literal["yes", "no", "with-changes"]
Status = Literal["published", "draft", "superseded", "retracted"]

OUTCOMES: tuple[str, ...] = get_args(Outcome)
SIZES: tuple[str, ...] = get_args(CompanySize)
ADOPTION_PHASES: tuple[str, ...] = get_args(AdoptionPhase)
WOULD_DO_AGAIN: tuple[str, ...] = get_args(WouldDoAgain)
STATUSES: tuple[str, ...] = get_args(Status)
PUBLISHED_STATUSES: tuple[str, ...] = ("published", "superseded")  # what the site and search show
HIDDEN_STATUSES: tuple[str, ...] = tuple(s for s in STATUSES if s not in PUBLISHED_STATUSES)

OUTCOME_LABELS: dict[str, str] = {
    "success": "Success",
    "partial": "Partial success",
    "failure": "Failure",
    "abandoned": "Abandoned",
    "ongoing": "Ongoing",
}
SIZE_STAFF: dict[str, tuple[int, int]] = {"micro": (0, 9), "small": (10, 49), "medium": (50, 249)}  # staff, EU SME definition
SIZE_HINT = ", ".join(f"{size} (<{hi + 1} staff)" if lo == 0 else f"{size} (<{hi + 1})" for size, (lo, hi) in SIZE_STAFF.items())
WOULD_DO_AGAIN_LABELS: dict[str, str] = {"yes": "Yes", "no": "No", "with-changes": "Yes, with changes"}

# Words the site shows around a lesson, by language: the English text (the labels above, the names of the card's
# fields and the page's headings and buttons) -> its translation. A language without a row shows English.
TRANSLATIONS: dict[str, dict[str, str]] = {
    "es": {
        # outcomes, would-do-again, sizes
        "Success": "Éxito",
        "Partial success": "Éxito parcial",
        "Failure": "Fracaso",
        "Abandoned": "Abandonado",
        "Ongoing": "En curso",
        "Yes": "Sí",
        "No": "No",
        "Yes, with changes": "Sí, con cambios",
        "Micro": "Micro",
        "Small": "Pequeña",
        "Medium": "Mediana",
        "staff": "personas",
        "fewer than": "menos de",
        # the card's fields
        "Sector": "Sector",
        "Company size": "Tamaño de la empresa",
        "Company sizes": "Tamaños de empresa",
        "company": "empresa",
        "Country": "País",
        "Outcome": "Resultado",
        "Technologies": "Tecnologías",
        "Tags": "Etiquetas",
        "Products": "Productos",
        "Cost": "Coste",
        "Effort": "Esfuerzo",
        "person-days": "jornadas de trabajo",
        "Duration": "Duración",
        "months": "meses",
        "Would do again": "Lo volvería a hacer",
        "Date": "Fecha",
        "Contributor": "Autor",
        "anonymous": "anónimo",
        # the lesson page
        "Related lessons": "Lecciones relacionadas",
        "No related lesson yet.": "Aún no hay lecciones relacionadas.",
        "chosen by the author": "elegida por el autor",
        "Edit this lesson": "Editar esta lección",
        "Add your own experience": "Comparte tu experiencia",
    }
}


def translate(text: str, language: str | None) -> str:
    """`text` (English, from the tables above) in the base language of `language` when there is a translation."""
    return TRANSLATIONS.get((language or "en").split("-")[0].lower(), {}).get(text, text)


def size_label(size: str, language: str | None = "en") -> str:
    """'Small (10-49 staff)', or in Spanish 'Pequeña (10-49 personas)'."""
    low, high = SIZE_STAFF[size]
    staff = translate("staff", language)
    span = f"{translate('fewer than', language)} {high + 1} {staff}" if low == 0 else f"{low}-{high} {staff}"
    return f"{translate(size.capitalize(), language)} ({span})"


SIZE_LABELS: dict[str, str] = {size: size_label(size) for size in SIZE_STAFF}

# --- patterns and limits ----------------------------------------------------------------------------------

SLUG_WORD = r"[a-z0-9]+"  # what a slug is made of: lower-case ASCII letters and digits
SLUG_PATTERN = rf"^{SLUG_WORD}(-{SLUG_WORD})*$"  # lesson ids, sectors, technologies, tags: kebab-case
SLUG_RE = re.compile(SLUG_PATTERN)
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"  # BCP 47 tags such as en, es, pt-BR
ID_MAX = 80  # characters of a lesson id (its file name without .md)
TITLE_MIN, TITLE_MAX = 10, 120
SUMMARY_MIN, SUMMARY_MAX = 30, 400
SHORT_TEXT_MAX = 120  # a product name, a contributor's name
REGION_MAX = 100
MAX_LESSON_BYTES = 256 * 1024
MIN_BODY_WORDS = 120
MAX_TECHNOLOGIES = 10
# Bounds on a body that keep Markdown rendering fast and its recursion shallow (core/prescan.py measures them).
MAX_BODY_CHARS = 100_000  # a long lesson is 20,000; the rest of the file limit is for the front matter and slack
MAX_NESTING = 16  # list and quote levels on one line: Python-Markdown recurses per level
MAX_BRACKET_SCAN = 100_000  # characters the link parser reads for all "[" of a body (well under a second)
MAX_TAG_SCAN = 500_000  # characters the HTML parser reads for all "<tag" openings of a body (well under a second)


# Slugs that name a generated page of their own: `browse/tag/index.md` lists every tag, so a tag called
# 'index' would replace that page. Tags, sectors and technologies may not take these names.
RESERVED_SLUGS = frozenset({"index"})


def is_slug(value: str) -> bool:
    """True for a kebab-case slug (lower-case letters and digits joined by single hyphens)."""
    return SLUG_RE.match(value) is not None


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

# ISO 639-1: the 184 two-letter language codes (a lesson's language is one of these, with an optional BCP 47
# region such as pt-BR). Checked against the iso-codes package's iso_639-2.json.
LANGUAGES = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el
    en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja
    jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd
    ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss
    st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split()
)

# --- facets: the ways lessons are counted, filtered and browsed ---------------------------------------------


@dataclass(frozen=True)
class Facet:
    """A way to group lessons: its name (stats keys, filters), the front-matter field it reads, its titles and the
    folder of its browse pages. A lesson has several values for the list fields (technologies, tags)."""

    name: str
    field: str
    singular: str
    plural: str
    url: str


FACETS: dict[str, Facet] = {
    facet.name: facet
    for facet in (
        Facet("sector", "sector", "Sector", "Sectors", "sector"),
        Facet("technology", "technologies", "Technology", "Technologies", "technology"),
        Facet("outcome", "outcome", "Outcome", "Outcomes", "outcome"),
        Facet("company_size", "company_size", "Company size", "Company sizes", "size"),
        Facet("country", "country", "Country", "Countries", "country"),
        Facet("language", "language", "Language", "Languages", "language"),
        Facet("year", "date", "Year", "Years", "year"),
        Facet("tag", "tags", "Tag", "Tags", "tag"),
    )
}
STATS_FACETS: tuple[str, ...] = ("sector", "technology", "outcome", "company_size", "country", "language")  # `lessons stats`
BROWSE_FACETS: tuple[str, ...] = ("sector", "technology", "outcome", "company_size", "country", "year", "tag")  # the site
# Front-matter fields the index keeps per lesson for filters and listings, without reading whole records.
INDEX_FIELDS: tuple[str, ...] = ("id", "sector", "outcome", "company_size", "country", "language", "date", "status", "technologies")

# --- body sections --------------------------------------------------------------------------------------------
# Keys are stable section ids used everywhere else (passages, site, checks, issue form); values are the
# level-2 heading text per language. Add a language by adding a row to each table.

EXPECTED_SECTIONS: tuple[str, ...] = ("context", "what_we_did", "what_happened", "lessons_learned")
OPTIONAL_SECTIONS: tuple[str, ...] = ("advice", "evidence")
SECTION_HEADINGS: dict[str, dict[str, str]] = {
    "en": {
        "context": "Context",
        "what_we_did": "What we did",
        "what_happened": "What happened",
        "lessons_learned": "Lessons learned",
        "advice": "Advice",
        "evidence": "Evidence",
    },
    "es": {
        "context": "Contexto",
        "what_we_did": "Qué hicimos",
        "what_happened": "Qué pasó",
        "lessons_learned": "Lecciones aprendidas",
        "advice": "Consejos",
        "evidence": "Evidencia",
    },
}
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "es": "Español"}  # the languages the tables above have
# One line of guidance per section: the template of `lessons new` and the questions of the issue form.
SECTION_GUIDANCE: dict[str, dict[str, str]] = {
    "en": {
        "context": "Who you are (sector, size, country) and the problem you wanted to solve.",
        "what_we_did": "What you chose, why, what it cost and how long it took.",
        "what_happened": "What went well and what went wrong, with numbers (weeks, euros, staff, volumes).",
        "lessons_learned": "What you know now that you wish you had known before.",
        "advice": "Optional: concrete advice for a company about to do the same.",
        "evidence": "Optional: figures, documents or public sources that back the lesson up.",
    },
    "es": {
        "context": "Quiénes sois (sector, tamaño, país) y qué problema queríais resolver.",
        "what_we_did": "Qué elegisteis, por qué, cuánto costó y cuánto tardó.",
        "what_happened": "Qué salió bien y qué salió mal, con cifras (semanas, euros, personas, volúmenes).",
        "lessons_learned": "Lo que sabéis ahora y os habría gustado saber antes.",
        "advice": "Opcional: consejos concretos para una empresa que vaya a hacer lo mismo.",
        "evidence": "Opcional: cifras, documentos o fuentes públicas que respaldan la lección.",
    },
}


def base_language(language: str | None) -> str:
    """The base language of a BCP 47 tag, if the tables above have it; English otherwise."""
    base = (language or "en").split("-")[0].lower()
    return base if base in SECTION_HEADINGS else "en"


def headings_for(language: str | None) -> dict[str, str]:
    """Section headings for a BCP 47 language tag (falls back to the base language, then English)."""
    return SECTION_HEADINGS[base_language(language)]


def guidance_for(language: str | None) -> dict[str, str]:
    """One line of guidance per section, in the lesson's language when the table has it."""
    return SECTION_GUIDANCE[base_language(language)]
