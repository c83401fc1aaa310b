"""The default taxonomy, extending it, and its agreement with the cue pattern file."""

from __future__ import annotations

import dataclasses

import pytest

from pipelines.extraction.step2_cues import GENERIC_LABELS, label_category, load_patterns
from pipelines.extraction.taxonomy import (
    DEFAULT_TAXONOMY,
    Category,
    category_names,
    extend_taxonomy,
)

EXPECTED = {
    "price",
    "timing",
    "authority",
    "need",
    "competitor",
    "trust",
    "implementation",
    "contract",
    "feature",
}


def test_default_categories_are_the_nine_we_sell_on():
    assert set(category_names()) == EXPECTED
    assert len(category_names()) == len(EXPECTED)


@pytest.mark.parametrize("category", DEFAULT_TAXONOMY, ids=lambda c: c.name)
def test_each_category_has_a_description_and_distinct_prototypes(category: Category):
    assert category.description.strip().endswith(".")
    assert 10 <= len(category.prototypes) <= 20
    assert len(set(category.prototypes)) == len(category.prototypes)
    assert all(p == p.strip() and len(p.split()) >= 3 for p in category.prototypes)


def test_prototypes_are_not_shared_between_categories():
    seen: dict[str, str] = {}
    for category in DEFAULT_TAXONOMY:
        for prototype in category.prototypes:
            assert prototype not in seen, (prototype, seen.get(prototype), category.name)
            seen[prototype] = category.name


def test_category_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_TAXONOMY[0].name = "cost"  # type: ignore[misc]


def test_extend_adds_prototypes_to_a_known_category_without_touching_the_original():
    extended = extend_taxonomy(DEFAULT_TAXONOMY, "price", ["Our grant only covers hardware."])
    price = dict(zip(category_names(extended), extended, strict=True))["price"]
    original = dict(zip(category_names(), DEFAULT_TAXONOMY, strict=True))["price"]
    assert price.prototypes[-1] == "Our grant only covers hardware."
    assert len(price.prototypes) == len(original.prototypes) + 1
    assert category_names(extended) == category_names()


def test_extend_does_not_duplicate_an_existing_prototype():
    existing = DEFAULT_TAXONOMY[0].prototypes[0]
    extended = extend_taxonomy(DEFAULT_TAXONOMY, DEFAULT_TAXONOMY[0].name, [existing])
    assert extended[0].prototypes == DEFAULT_TAXONOMY[0].prototypes


def test_extend_appends_a_new_category_with_its_description():
    extended = extend_taxonomy(
        DEFAULT_TAXONOMY,
        "accessibility",
        ["It has to work with screen readers.", "  "],
        "Accessibility requirements.",
    )
    assert category_names(extended)[-1] == "accessibility"
    assert extended[-1] == Category(
        "accessibility", "Accessibility requirements.", ("It has to work with screen readers.",)
    )


@pytest.mark.parametrize("name, prototypes", [("", ["x y z"]), ("brand_new", []), (" ", [])])
def test_extend_rejects_a_nameless_or_empty_new_category(name, prototypes):
    with pytest.raises(ValueError):
        extend_taxonomy(DEFAULT_TAXONOMY, name, prototypes)


def test_every_pattern_label_names_a_default_category_or_a_known_group():
    known_groups = {"neutral", "pain"} | GENERIC_LABELS
    for entry in load_patterns():
        label = entry["label"]
        category = label_category(label)
        assert category in EXPECTED or label in known_groups, entry["id"]
        assert entry["pattern"], entry["id"]


def test_pattern_ids_are_unique():
    ids = [entry["id"] for entry in load_patterns()]
    assert len(ids) == len(set(ids))
