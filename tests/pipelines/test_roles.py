"""pipelines.roles: declared roles, email domains, the roster, then heuristics."""

from __future__ import annotations

from pathlib import Path

from pipelines.formats import parse
from pipelines.roles import RoleDecision, resolve_roles
from pipelines.types import CallMeta, Conversation, Speaker, Turn

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"


def conversation(speakers: list[Speaker], lines: list[tuple[str, str]]) -> Conversation:
    turns = tuple(Turn(name, text) for name, text in lines)
    return Conversation(CallMeta(), tuple(speakers), turns)


DISCOVERY = [
    ("Ann", "Hi both, thanks for joining. How are things going with reporting?"),
    ("Cy", "Slow. We export everything by hand."),
    ("Bo", "And it takes us a full day every month."),
    ("Ann", "What have you tried so far? Pulse automates exactly that."),
    ("Cy", "Mostly spreadsheets."),
    ("Ann", "Would a demo next week work?"),
    ("Bo", "Sure."),
]


def test_explicit_role_wins_over_everything() -> None:
    conv = conversation(
        [Speaker("Ann", "ann@customer.com", "rep"), Speaker("Cy", "cy@acme.io", "customer")],
        [("Ann", "Hello?"), ("Cy", "Hi.")],
    )
    decisions = resolve_roles(conv, own_domains=["acme.io"], roster=["Cy"])
    assert decisions == {
        "Ann": RoleDecision("rep", 1.0, "explicit"),
        "Cy": RoleDecision("customer", 1.0, "explicit"),
    }


def test_email_domain_decides_including_subdomains() -> None:
    conv = conversation(
        [
            Speaker("Ann", "ann@ACME.io"),
            Speaker("Eve", "eve@eu.acme.io"),
            Speaker("Cy", "cy@northwind.com"),
            Speaker("Mal", "mal@notacme.io"),
        ],
        [("Cy", "Hi."), ("Ann", "Hello?"), ("Eve", "Hey."), ("Mal", "Yo.")],
    )
    decisions = resolve_roles(conv, own_domains=["@acme.io"])
    assert {n: (d.role, d.source) for n, d in decisions.items()} == {
        "Ann": ("rep", "domain"),
        "Eve": ("rep", "domain"),
        "Cy": ("customer", "domain"),
        "Mal": ("customer", "domain"),
    }


def test_roster_matches_name_or_email_ignoring_case_and_spacing() -> None:
    conv = conversation(
        [Speaker("Ann  Lee"), Speaker("Bo", "BO@gmail.com"), Speaker("Cy", "cy@northwind.com")],
        [("Cy", "Hi."), ("Ann  Lee", "Hello?"), ("Bo", "Hey.")],
    )
    decisions = resolve_roles(conv, own_domains=["acme.io"], roster=["ann lee", "bo@gmail.com"])
    assert decisions["Ann  Lee"] == RoleDecision("rep", 0.9, "roster")
    # a listed rep on a personal address stays a rep rather than a foreign-domain customer
    assert decisions["Bo"] == RoleDecision("rep", 0.9, "roster")
    assert decisions["Cy"].source == "domain"


def test_heuristic_first_speaker_questions_and_product_terms() -> None:
    conv = conversation([], DISCOVERY)
    decisions = resolve_roles(conv, product_terms=["pulse"])
    assert {n: d.role for n, d in decisions.items()} == {
        "Ann": "rep",
        "Cy": "customer",
        "Bo": "customer",
    }
    assert all(d.source == "heuristic" and 0.5 < d.confidence < 0.9 for d in decisions.values())


def test_naming_the_product_counts_as_rep_evidence() -> None:
    conv = conversation(
        [],
        [
            ("Cy", "Thanks for the time. Where do we start?"),
            ("Ann", "With your reporting. How do you handle it today?"),
            ("Cy", "By hand, mostly."),
            ("Ann", "Pulse automates that, and Pulse flags risky deals."),
        ],
    )
    assert resolve_roles(conv)["Ann"].role == "customer"  # spoke second, asked no more
    with_terms = resolve_roles(conv, product_terms=["pulse"])
    assert with_terms["Ann"].role == "unknown"  # the product mentions offset a late start
    assert with_terms["Cy"].role == "unknown"


def test_the_other_person_on_a_two_person_call_with_a_known_rep_is_the_customer() -> None:
    conv = conversation(
        [Speaker("Ann", role="rep"), Speaker("Cy")],
        [("Cy", "Can I ask a few questions first? What does it cost?"), ("Ann", "Sure.")],
    )
    assert resolve_roles(conv)["Cy"] == RoleDecision("customer", 0.75, "heuristic")


def test_no_evidence_means_unknown() -> None:
    conv = conversation([Speaker("Ann"), Speaker("Silent"), Speaker("Bo")],
                        [("Ann", "Hi."), ("Bo", "Hi."), ("Ann", "Ok."), ("Bo", "Ok.")])  # fmt: skip
    assert resolve_roles(conv)["Silent"] == RoleDecision("unknown", 0.5, "heuristic")


def test_every_speaker_gets_a_decision_on_a_parsed_fixture() -> None:
    conv = parse((FIXTURES / "stt.json").read_bytes())
    decisions = resolve_roles(conv, product_terms=["Pulse"])
    assert {n: d.role for n, d in decisions.items()} == {
        "Speaker A": "rep",
        "Speaker B": "customer",
        "Speaker C": "customer",
    }
    native = resolve_roles(parse((FIXTURES / "native.json").read_bytes()))
    assert {d.source for d in native.values()} == {"explicit"}
