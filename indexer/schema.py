"""The front-matter model (pydantic v2), the taxonomy, and the JSON Schema made from both."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from .errors import TaxonomyError

SCHEMA_VERSION = 1
SLUG_RE = r"^[a-z0-9]+(-[a-z0-9]+)*$"
LANG_RE = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

Outcome = Literal["success", "partial", "failure", "abandoned", "ongoing"]
CompanySize = Literal["micro", "small", "medium"]
OUTCOMES: tuple[str, ...] = Outcome.__args__  # type: ignore[attr-defined]
SIZES: tuple[str, ...] = CompanySize.__args__  # type: ignore[attr-defined]
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


def _iso_date(value: Any) -> Any:
    """Accept a date written as YYYY-MM-DD (YAML may already have made it a date), nothing looser."""
    if isinstance(value, dt.datetime):
        raise PydanticCustomError("invalid-date", "write a date without a time, as YYYY-MM-DD")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise PydanticCustomError("invalid-date", "'{value}' is not a real calendar date", {"value": value}) from None
    raise PydanticCustomError("invalid-date", "write the date as YYYY-MM-DD")


def _slug(value: Any) -> Any:
    if isinstance(value, str) and not re.match(SLUG_RE, value):
        raise PydanticCustomError("invalid-slug", "'{value}' is not a kebab-case slug (lower-case letters, digits and hyphens)",
                                  {"value": value[:60]})
    return value


def _country(value: Any) -> Any:
    if isinstance(value, str):
        code = value.strip().upper()
        if code not in COUNTRIES:
            raise PydanticCustomError(
                "invalid-country", "'{value}' is not an ISO 3166-1 alpha-2 country code (for example ES, DE, IE)", {"value": value[:20]}
            )
        return code
    return value


def _language(value: Any) -> Any:
    if isinstance(value, str) and not re.match(LANG_RE, value):
        raise PydanticCustomError("invalid-language", "'{value}' is not a BCP 47 language tag (for example en, es, pt-BR)",
                                  {"value": value[:20]})
    return value


def _number(value: Any) -> Any:
    # YAML gives int/float for numbers; refuse bools and strings rather than coercing "12k" or true.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("invalid-type", "must be a plain number (no units, no quotes)")
    return value


Slug = Annotated[str, BeforeValidator(_slug)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Number = Annotated[float, BeforeValidator(_number), Field(ge=0)]
ShortText = Annotated[str, Field(min_length=1, max_length=120)]


class FrontMatter(BaseModel):
    """The YAML front matter of a lesson. Field descriptions become the JSON Schema's documentation."""

    model_config = ConfigDict(extra="forbid", strict=False, str_strip_whitespace=True, frozen=True)

    title: Annotated[str, Field(min_length=10, max_length=120, description="What the lesson is about, 10-120 characters.")]
    summary: Annotated[str, Field(min_length=30, max_length=400, description="The lesson in one or two sentences.")]
    date: Annotated[IsoDate, Field(description="When the lesson was written, YYYY-MM-DD, not in the future.")]
    sector: Annotated[Slug, Field(description="Sector slug from the taxonomy (NACE Rev. 2 sections).")]
    company_size: Annotated[CompanySize, Field(description="micro (<10 staff), small (<50), medium (<250).")]
    technologies: Annotated[list[Slug], Field(min_length=1, max_length=10, description="1-10 technology slugs.")]
    outcome: Annotated[Outcome, Field(description="How it turned out.")]
    country: Annotated[str | None, BeforeValidator(_country), Field(description="ISO 3166-1 alpha-2 code.")] = None
    region: Annotated[str | None, Field(max_length=100)] = None
    language: Annotated[str, BeforeValidator(_language), Field(description="BCP 47 tag of the lesson's text.")] = "en"
    business_function: list[Slug] = []
    adoption_phase: Literal["explore", "select", "procure", "implement", "operate", "retire"] | None = None
    cost_eur: Annotated[Number | None, Field(description="Total spend in euros.")] = None
    effort_person_days: Number | None = None
    duration_months: Number | None = None
    would_do_again: Literal["yes", "no", "with-changes"] | None = None
    products: list[ShortText] = []
    tags: list[Slug] = []
    contributor: Annotated[str | None, Field(max_length=120, description="A name, an organisation or 'anonymous'.")] = None
    status: Literal["published", "draft", "superseded", "retracted"] = "published"
    superseded_by: Slug | None = None
    duplicate_of: Slug | None = None
    related: list[Slug] = []
    review_by: IsoDate | None = None
    sample: bool = False

    @field_validator("date")
    @classmethod
    def _not_future(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        today = (info.context or {}).get("today") or dt.date.today()
        if value > today:
            raise PydanticCustomError("future-date", "date {value} is in the future", {"value": value.isoformat()})
        return value

    @field_validator("title", "summary")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return re.sub(r"\s+", " ", value)


FIELDS: tuple[str, ...] = tuple(FrontMatter.model_fields)
REQUIRED_FIELDS: tuple[str, ...] = tuple(name for name, f in FrontMatter.model_fields.items() if f.is_required())


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


def json_schema(taxonomy: Taxonomy | None = None) -> dict[str, Any]:
    """JSON Schema of the front matter; with a taxonomy, sectors and business functions become enums."""
    schema = FrontMatter.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "lesson.schema.json"
    schema["title"] = "Lesson front matter"
    schema["description"] = f"Front matter of a lessons-kb lesson (schema version {SCHEMA_VERSION})."
    props = schema["properties"]
    for name in ("sector", "superseded_by", "duplicate_of"):
        _set_pattern(props[name], SLUG_RE)
    for name in ("technologies", "business_function", "tags", "related"):
        _set_pattern(props[name]["items"], SLUG_RE)
    _set_pattern(props["language"], LANG_RE)
    props["country"] = {"anyOf": [{"type": "string", "enum": sorted(COUNTRIES)}, {"type": "null"}],
                        "default": None, "title": "Country", "description": "ISO 3166-1 alpha-2 code."}
    for name in ("cost_eur", "effort_person_days", "duration_months"):
        props[name]["anyOf"][0]["minimum"] = 0
    if taxonomy is not None:
        props["sector"]["enum"] = sorted(taxonomy.sectors)
        props["business_function"]["items"]["enum"] = sorted(taxonomy.business_functions)
        props["technologies"]["items"]["examples"] = sorted(taxonomy.technologies)
    return schema


def _set_pattern(prop: dict[str, Any], pattern: str) -> None:
    target = next((p for p in prop.get("anyOf", []) if p.get("type") == "string"), prop)
    target["pattern"] = pattern
