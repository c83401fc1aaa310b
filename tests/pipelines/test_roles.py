"""pipelines.roles: the resolution order, name keys, recurrence and the fitted pattern model."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.formats import parse
from pipelines.roles import Evidence, RoleDecision, resolve_roles
from pipelines.roles_names import is_generic, name_key
from pipelines.roles_pattern import FEATURES, features, fitted_model
from pipelines.roles_recurrence import recurrence
from pipelines.types import CallMeta, Conversation, Speaker, Turn

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"


def conversation(speakers: list[Speaker], lines: list[tuple[str, str]]) -> Conversation:
    turns = tuple(Turn(name, text) for name, text in lines)
    return Conversation(CallMeta(), tuple(speakers), turns)


DISCOVERY = [
    ("Ann", "Hi both, thanks for joining. Quick agenda: your reporting today, then a demo."),
    ("Cy", "Sounds good. We export everything by hand right now."),
    ("Bo", "And it takes us a full day every month."),
    ("Ann", "What have you tried so far? How many people touch the export?"),
    ("Cy", "Mostly spreadsheets. Three of us."),
    ("Ann", "Our platform automates exactly that. Pricing is $300 a month for your team."),
    ("Bo", "Does it work with our current CRM?"),
    ("Ann", "It does. I'll send a recap and a calendar invite for next steps."),
]
# The buyer opens and asks most of the questions; only the content says who sells.
BUYER_LED = [
    ("Kim", "Hi, thanks. I have a list of questions, so can I just go through them?"),
    ("Lou", "Of course, go ahead."),
    ("Kim", "Do you integrate with Salesforce? And how much does it cost per seat?"),
    ("Lou", "We integrate natively. Pricing is $40 per user a month on the annual plan."),
    ("Kim", "Can we pay monthly? Our budget is set every quarter."),
    ("Lou", "We can offer quarterly billing. I'll send a proposal today."),
]


def test_a_correction_on_the_call_wins_then_explicit_then_roster_and_domains() -> None:
    conv = conversation(
        [Speaker("Ann", "ann@customer.com", "rep"), Speaker("Cy", "cy@acme.io", "customer")],
        [("Ann", "Hello?"), ("Cy", "Hi.")],
    )
    decisions = resolve_roles(conv, Evidence(own_domains=["acme.io"], roster=["Cy"]))
    assert decisions == {
        "Ann": RoleDecision("rep", 1.0, "explicit"),
        "Cy": RoleDecision("customer", 1.0, "explicit"),
    }
    corrected = resolve_roles(conv, Evidence(corrected={"Ann": "customer"}))
    assert corrected["Ann"] == RoleDecision("customer", 1.0, "correction")


def test_learned_corrections_outrank_roster_and_recurrence_but_not_for_generic_names() -> None:
    conv = conversation([], [("Sam Ortiz", "Hi there."), ("Zoom user", "Hello.")])
    seen = recurrence([(i, ["Sam Ortiz", f"P{i}"]) for i in range(5)])
    ev = Evidence(roster=["Sam Ortiz"], recurrence=seen,
                  learned={"sam ortiz": "customer", "zoom user": "rep"})
    decisions = resolve_roles(conv, ev)
    assert decisions["Sam Ortiz"] == RoleDecision("customer", 0.98, "correction")
    assert decisions["Zoom user"].source == "pattern"


def test_email_domain_decides_including_subdomains() -> None:
    conv = conversation(
        [Speaker("Ann", "ann@ACME.io"), Speaker("Eve", "eve@eu.acme.io"),
         Speaker("Cy", "cy@northwind.com"), Speaker("Mal", "mal@notacme.io")],
        [("Cy", "Hi."), ("Ann", "Hello?"), ("Eve", "Hey."), ("Mal", "Yo.")],
    )  # fmt: skip
    decisions = resolve_roles(conv, Evidence(own_domains=["@acme.io"]))
    assert {n: (d.role, d.source) for n, d in decisions.items()} == {
        "Ann": ("rep", "domain"), "Eve": ("rep", "domain"),
        "Cy": ("customer", "domain"), "Mal": ("customer", "domain"),
    }  # fmt: skip


def test_roster_matches_names_as_recorders_write_them() -> None:
    conv = conversation(
        [Speaker("ANN  Lée (Acme)"), Speaker("Bo", "BO@gmail.com"), Speaker("Cy", "cy@nw.com")],
        [("Cy", "Hi."), ("ANN  Lée (Acme)", "Hello?"), ("Bo", "Hey.")],
    )
    decisions = resolve_roles(conv, Evidence(own_domains=["acme.io"],
                                             roster=["ann lee", "bo@gmail.com"]))
    assert decisions["ANN  Lée (Acme)"] == RoleDecision("rep", 0.9, "roster")
    # a listed rep on a personal address stays a rep rather than a foreign-domain customer
    assert decisions["Bo"] == RoleDecision("rep", 0.9, "roster")
    assert decisions["Cy"].source == "domain"


@pytest.mark.parametrize(("raw", "key"), [
    ("Dana Whitfield (Acme)", "dana whitfield"),
    ("DANA WHITFIELD | Acme Inc", "dana whitfield"),
    ("Dana Whitfield - Acme", "dana whitfield"),
    ("José  Núñez", "jose nunez"),
    ("Jean-Luc Picard", "jean luc picard"),
])  # fmt: skip
def test_name_keys_ignore_case_accents_spacing_and_company(raw: str, key: str) -> None:
    assert name_key(raw) == key
    assert not is_generic(raw)


@pytest.mark.parametrize("name", [
    "Zoom user", "Zoom User 2", "iPhone", "IPhone", "Dana’s iPhone", "Speaker 1", "Speaker B",
    "Unknown", "Guest", "Participant 3", "+1 (415) 555-0100", "Call-in User_2", "Samsung SM-G991U",
])  # fmt: skip
def test_generic_names(name: str) -> None:
    assert is_generic(name)


def test_recurrence_needs_many_calls_opposite_different_people() -> None:
    calls = [
        (1, ["Sam Ortiz", "Ana Ruiz"]), (2, ["sam ortiz (Relay)", "Zoom user"]),
        (3, ["Sam Ortiz", "Zoom user"]), (4, ["Sam Ortiz", "Ana Ruiz"]),
        (5, ["Ana Ruiz", "Sam Ortiz"]), (6, ["Zoom user", "Ben Lo"]), (7, ["Zoom user", "Ben Lo"]),
    ]  # fmt: skip
    seen = recurrence(calls)
    assert seen.recurring("SAM ORTIZ")  # 5 calls, opposite Ana and two different Zoom users
    assert not seen.recurring("Ana Ruiz")  # 3 calls, always opposite Sam
    assert not seen.recurring("Zoom user")  # a different person each time
    assert seen.of("Zoom user") is None
    assert not seen.recurring("Ben Lo")


def test_a_recurring_speaker_is_the_rep_and_the_other_person_the_customer() -> None:
    seen = recurrence([(i, ["Lou", f"Buyer {i}x"]) for i in range(4)])
    conv = conversation([], BUYER_LED)
    decisions = resolve_roles(conv, Evidence(recurrence=seen))
    assert decisions["Lou"].source == "recurrence" and decisions["Lou"].role == "rep"
    assert (decisions["Kim"].role, decisions["Kim"].source) == ("customer", "pattern")
    assert 0.85 <= decisions["Kim"].confidence <= 0.95


def test_the_fitted_pattern_reads_a_call_with_no_other_evidence() -> None:
    for lines, rep in ((DISCOVERY, "Ann"), (BUYER_LED, "Lou")):
        decisions = resolve_roles(conversation([], lines))
        assert {n for n, d in decisions.items() if d.role == "rep"} == {rep}
        assert all(d.source == "pattern" and 0.5 <= d.confidence <= 0.85
                   for d in decisions.values())


def test_pattern_features_are_relative_to_the_other_speakers() -> None:
    x = features(tuple(Turn(n, t) for n, t in DISCOVERY))
    assert set(x) == {"Ann", "Cy", "Bo"} and all(len(v) == len(FEATURES) for v in x.values())
    named = dict(zip(FEATURES, x["Ann"], strict=True))
    assert named["opens"] == 1.0 and named["price"] == 1.0 and named["offer"] == 1.0
    assert dict(zip(FEATURES, x["Bo"], strict=True))["buyer"] > 0


def test_shipped_weights_match_the_features_and_favour_seller_language() -> None:
    model = fitted_model()
    weights = dict(zip(FEATURES, model.weights, strict=True))
    assert weights["offer"] > 0 and weights["price"] > 0 and weights["buyer"] < 0


def test_a_silent_speaker_is_unknown() -> None:
    conv = conversation([Speaker("Ann"), Speaker("Silent"), Speaker("Bo")],
                        [("Ann", "Hi."), ("Bo", "Hi."), ("Ann", "Ok."), ("Bo", "Ok.")])  # fmt: skip
    assert resolve_roles(conv)["Silent"] == RoleDecision("unknown", 0.5, "pattern")


def test_every_speaker_gets_a_decision_on_parsed_fixtures() -> None:
    conv = parse((FIXTURES / "stt.json").read_bytes())
    decisions = resolve_roles(conv)
    assert {n: d.role for n, d in decisions.items()} == {
        "Speaker A": "rep", "Speaker B": "customer", "Speaker C": "customer"}  # fmt: skip
    native = resolve_roles(parse((FIXTURES / "native.json").read_bytes()))
    assert {d.source for d in native.values()} == {"explicit"}
