"""The front-matter model (pydantic v2), the taxonomy, and the JSON Schema made from both."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from .taxonomy import Taxonomy
from .vocabulary import (
    COUNTRIES,
    LANGUAGE_PATTERN,
    LANGUAGES,
    MAX_TECHNOLOGIES,
    REGION_MAX,
    RESERVED_SLUGS,
    SCHEMA_VERSION,
    SHORT_TEXT_MAX,
    SIZE_HINT,
    SLUG_PATTERN,
    SUMMARY_MAX,
    SUMMARY_MIN,
    TITLE_MAX,
    TITLE_MIN,
    AdoptionPhase,
    CompanySize,
    Outcome,
    Status,
    WouldDoAgain,
    is_slug,
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
    if isinstance(value, str) and not is_slug(value):
        raise PydanticCustomError(
            "invalid-slug", "'{value}' is not a kebab-case slug (lower-case letters, digits and hyphens)", {"value": value[:60]}
        )
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
    if isinstance(value, str) and (not re.match(LANGUAGE_PATTERN, value) or value.split("-")[0].lower() not in LANGUAGES):
        raise PydanticCustomError(
            "invalid-language",
            "'{value}' is not an ISO 639-1 language code, optionally with a region (for example en, es, pt-BR)",
            {"value": value[:20]},
        )
    return value


def _number(value: Any) -> Any:
    # YAML gives int/float for numbers; refuse bools and strings rather than coercing "12k" or true.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("invalid-type", "must be a plain number (no units, no quotes)")
    return value


def _tag(value: Any) -> Any:
    if isinstance(value, str) and value in RESERVED_SLUGS:
        raise PydanticCustomError(
            "invalid-value", "'{value}' is the name of a generated page (the list of all tags): choose another tag", {"value": value}
        )
    return _slug(value)


Slug = Annotated[str, BeforeValidator(_slug)]
Tag = Annotated[str, BeforeValidator(_tag)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Number = Annotated[float, BeforeValidator(_number), Field(ge=0)]
ShortText = Annotated[str, Field(min_length=1, max_length=SHORT_TEXT_MAX)]


class FrontMatter(BaseModel):
    """The YAML front matter of a lesson. Field descriptions become the JSON Schema's documentation."""

    model_config = ConfigDict(extra="forbid", strict=False, str_strip_whitespace=True, frozen=True)

    title: Annotated[
        str, Field(min_length=TITLE_MIN, max_length=TITLE_MAX, description=f"What the lesson is about, {TITLE_MIN}-{TITLE_MAX} characters.")
    ]
    summary: Annotated[str, Field(min_length=SUMMARY_MIN, max_length=SUMMARY_MAX, description="The lesson in one or two sentences.")]
    date: Annotated[IsoDate, Field(description="When the lesson was written, YYYY-MM-DD, not in the future.")]
    sector: Annotated[Slug, Field(description="Sector slug from the taxonomy (NACE Rev. 2 sections).")]
    company_size: Annotated[CompanySize, Field(description=f"{SIZE_HINT}.")]
    technologies: Annotated[
        list[Slug], Field(min_length=1, max_length=MAX_TECHNOLOGIES, description=f"1-{MAX_TECHNOLOGIES} technology slugs.")
    ]
    outcome: Annotated[Outcome, Field(description="How it turned out.")]
    country: Annotated[str | None, BeforeValidator(_country), Field(description="ISO 3166-1 alpha-2 code.")] = None
    region: Annotated[str | None, Field(max_length=REGION_MAX)] = None
    language: Annotated[str, BeforeValidator(_language), Field(description="BCP 47 tag of the lesson's text.")] = "en"
    business_function: list[Slug] = []
    adoption_phase: AdoptionPhase | None = None
    cost_eur: Annotated[Number | None, Field(description="Total spend in euros.")] = None
    effort_person_days: Number | None = None
    duration_months: Number | None = None
    would_do_again: WouldDoAgain | None = None
    products: list[ShortText] = []
    tags: list[Tag] = []
    contributor: Annotated[str | None, Field(max_length=SHORT_TEXT_MAX, description="A name, an organisation or 'anonymous'.")] = None
    status: Status = "published"
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


def json_schema(taxonomy: Taxonomy | None = None) -> dict[str, Any]:
    """JSON Schema of the front matter; with a taxonomy, sectors and business functions become enums."""
    schema = FrontMatter.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "lesson.schema.json"
    schema["title"] = "Lesson front matter"
    schema["description"] = f"Front matter of a lessons-kb lesson (schema version {SCHEMA_VERSION})."
    props = schema["properties"]
    for name in ("sector", "superseded_by", "duplicate_of"):
        _set_pattern(props[name], SLUG_PATTERN)
    for name in ("technologies", "business_function", "tags", "related"):
        _set_pattern(props[name]["items"], SLUG_PATTERN)
    _set_pattern(props["language"], LANGUAGE_PATTERN)
    props["country"] = {
        "anyOf": [{"type": "string", "enum": sorted(COUNTRIES)}, {"type": "null"}],
        "default": None,
        "title": "Country",
        "description": "ISO 3166-1 alpha-2 code.",
    }
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
