"""Taxonomy labels by language and synonyms: the file's words for an entry, found whatever the case or accents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indexer.core.check import check_knowledge_base
from indexer.core.kb import find_root
from indexer.core.taxonomy import load_taxonomy, normalise_term
from indexer.errors import TaxonomyError

from ..helpers import REPO

TAXONOMY = """\
sectors:
  hospitality: {name: "Accommodation and food service", es: "Hostelería", synonyms: [restaurante, hotel]}
technologies:
  point-of-sale: {name: "Point of sale", es: "Terminal punto de venta", synonyms: [TPV, datáfono]}
  crm: "CRM"
business_functions:
  sales: "Sales"
"""


def _load(tmp_path: Path, text: str = TAXONOMY):
    path = tmp_path / "taxonomy.yml"
    path.write_text(text, encoding="utf-8")
    return load_taxonomy(path)


def test_labels_fall_back_to_the_default_name(tmp_path: Path) -> None:
    taxonomy = _load(tmp_path)
    assert taxonomy.label("sectors", "hospitality", "es") == "Hostelería"
    assert taxonomy.label("sectors", "hospitality", "fr") == "Accommodation and food service"
    assert taxonomy.label("technologies", "crm", "es") == "CRM"
    assert taxonomy.sectors["hospitality"] == "Accommodation and food service"


@pytest.mark.parametrize("text", ["tpv", "DATAFONO", "Terminal punto de venta", "point of sale", "Point-of-Sale"])
def test_lookup_matches_every_word_for_an_entry(tmp_path: Path, text: str) -> None:
    assert _load(tmp_path).lookup("technologies", text) == "point-of-sale"


def test_lookup_does_not_match_part_of_a_word(tmp_path: Path) -> None:
    taxonomy = _load(tmp_path)
    assert taxonomy.lookup("technologies", "tp") is None
    assert taxonomy.lookup("technologies", "point") is None


def test_synonyms_must_be_a_list_of_words(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="hospitality: 'synonyms' must be a list"):
        _load(tmp_path, TAXONOMY.replace("[restaurante, hotel]", "restaurante"))


def test_normalise_term() -> None:
    assert normalise_term("  Copias-de   SEGURIDAD ") == "copias de seguridad"
    assert normalise_term("Nóminas") == "nominas"


def test_the_starter_taxonomy_gives_spanish_labels_and_synonyms() -> None:
    taxonomy = load_taxonomy(REPO / "lessons" / "taxonomy.yml")
    assert set(taxonomy.labels["technologies"]) == set(taxonomy.technologies)
    assert set(taxonomy.labels["sectors"]) == set(taxonomy.sectors)
    assert taxonomy.lookup("technologies", "copias de seguridad") == "backup"
    assert taxonomy.lookup("technologies", "centralita") == "voip"
    assert taxonomy.lookup("technologies", "nóminas") == "payroll"


def test_wording_renames_the_company_size_by_language(tmp_path: Path) -> None:
    default = _load(tmp_path)
    assert (default.word("company_size"), default.word("company_size", "es"), default.word("company")) == (
        "Company size",
        "Tamaño de la empresa",
        "company",
    )
    wording = 'wording:\n  company_size: {name: "Organisation size", es: "Tamaño de la organización"}\n  company: member\n'
    renamed = _load(tmp_path, TAXONOMY + wording)
    assert renamed.word("company_size") == "Organisation size"
    assert renamed.word("company_size", "es-ES") == "Tamaño de la organización"
    assert renamed.word("company_size", "fr") == "Company size"  # no French text given: the project's word
    assert renamed.word("company", "es") == "empresa" and renamed.word("company") == "member"
    assert renamed.word("company_sizes") == "Company sizes"


@pytest.mark.parametrize(
    ("wording", "message"),
    [
        ("wording:\n  company_sise: Organisation size\n", "unknown word 'company_sise' (did you mean 'company_size'?)"),
        ("wording:\n  company_size: [a, b]\n", "company_size: give a text"),
        ("wording:\n  company_size: {name: '', es: x}\n", "company_size: give a text"),
        ("wording:\n  company_size: {english: x}\n", "company_size: give a text"),
        ("wording: organisation\n", "'wording' must be a mapping"),
    ],
)
def test_wording_mistakes_are_explained(tmp_path: Path, wording: str, message: str) -> None:
    with pytest.raises(TaxonomyError) as info:
        _load(tmp_path, TAXONOMY + wording)
    assert message in str(info.value) and "taxonomy.yml" in str(info.value)


# Technology synonyms that this repository's lessons use only in lessons about other technologies, each reviewed:
# it names the technology itself, a device or a standard of it, as broadly as the entry's words in the other language
# do. A word broader than that (an activity the technology serves, such as "reparto", delivery, for route planning,
# whose English side says "delivery routes") is made precise instead: alone it would name a covered topic in a
# question about an uncovered one ("reparto con drones") and make it look close (docs/how-search-works.md).
REVIEWED_SYNONYMS = {
    ("accounting-software", "contabilidad"),  # accounting, as "accounting"
    ("accounting-software", "bookkeeping"),
    ("backup", "respaldo"),  # backup ("códigos de respaldo" in an MFA lesson)
    ("barcode-inventory", "inventario"),  # inventory, as "stock control"
    ("data-analytics", "dashboard"),
    ("gdpr", "proteccion de datos"),  # data protection, as "data protection"
    ("helpdesk", "ticketing"),
    ("mfa", "multi factor authentication"),
    ("password-manager", "passwords"),  # as "contraseñas"
    ("point-of-sale", "datafono"),  # the card terminal, a device of the point of sale
    ("voip", "telefonia"),  # telephony
    ("wifi-network", "red"),  # network, as "network"
}


def _words(text: str) -> str:
    return normalise_term(re.sub(r"[^\w\s-]", " ", text))


def test_a_synonym_the_lessons_use_only_for_other_technologies_is_reviewed() -> None:
    kb = find_root(explicit=REPO)
    lessons = check_knowledge_base(kb).lessons
    texts = [(f" {_words(f'{x.meta.title} {x.meta.summary} {x.body}')} ", x.meta.technologies) for x in lessons]
    common = set()
    for slug in kb.taxonomy.technologies:
        for phrase in {normalise_term(term) for term in kb.taxonomy.terms("technologies", slug)}:
            users = [techs for text, techs in texts if f" {phrase} " in text]
            if users and not any(slug in techs for techs in users) and any(slug in techs for _, techs in texts):
                common.add((slug, phrase))
    assert common == REVIEWED_SYNONYMS
