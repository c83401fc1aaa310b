"""Cluster naming: c-TF-IDF keywords, central quotes, short labels; one end-to-end run on real text."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.cluster import ClusterConfig, cluster_embeddings
from pipelines.label import (
    MAX_LABEL_CHARS,
    STOP_WORDS,
    clauses,
    cluster_label,
    ctfidf_keywords,
    reads_alone,
    representatives,
    shorten,
)

PRICE = [
    "Honestly the price is just too high for us right now",
    "Um, the price per seat is way over our budget",
    "Your price is double what we pay today",
    "We can't justify that price to finance",
    "The budget for this year is already spent, the price doesn't fit",
    "Yeah so the per seat price is a problem",
    "Price is the main blocker, you know, budget is tight",
    "Our budget won't stretch to that price",
    "That price would need sign-off from the CFO",
    "I mean, the price is steep compared with the budget we have",
]
SECURITY = [
    "We need SOC 2 before security will approve anything",
    "Our security team asks where the data is stored",
    "Is customer data encrypted at rest? Security will ask",
    "Security review takes three months here",
    "Without SSO our security team won't sign off",
    "Um, where is the data hosted, security needs to know for GDPR",
    "Our CISO wants a security questionnaire filled in",
    "Data residency in the EU is a must for security",
    "Security flagged the data retention policy",
    "Do you have a pen test report for our security people?",
]
INTEGRATION = [
    "Does it integrate with Salesforce?",
    "We need the Salesforce integration working on day one",
    "Our reps live in Salesforce so the integration is critical",
    "Is there an integration with HubSpot as well as Salesforce?",
    "Without a Salesforce integration nobody will use it",
    "How long does the Salesforce integration take to set up?",
    "The integration has to sync both ways with Salesforce",
    "Uh, we tried another tool and the Salesforce integration broke",
    "Can the integration push call notes into Salesforce?",
    "Our admin worries about the Salesforce integration permissions",
]


def test_keywords_are_distinctive_per_cluster_without_stop_words_or_fillers():
    keywords = ctfidf_keywords({0: PRICE, 1: SECURITY, 2: INTEGRATION}, top_n=5)
    assert keywords[0][:2] == ["price", "budget"]
    assert keywords[1][0].startswith("security") and "data" in keywords[1]
    assert keywords[2][:2] == ["salesforce", "integration"]
    for terms in keywords.values():
        assert len(terms) == 5
        assert not {w for t in terms for w in t.split()} & STOP_WORDS
    assert not set(keywords[0]) & set(keywords[1])


def test_recurring_bigrams_replace_their_words_and_one_off_bigrams_do_not_count():
    texts = {0: ["per seat pricing", "per seat pricing again", "seat pricing hurts"], 1: ["sso"]}
    assert ctfidf_keywords(texts, top_n=3)[0] == ["seat pricing", "hurts"]


def test_keywords_of_nothing_but_fillers_are_empty():
    assert ctfidf_keywords({0: ["um yeah okay", "uh"], 1: []}) == {0: [], 1: []}
    assert ctfidf_keywords({}) == {}


def test_representatives_are_most_central_first_with_ties_to_the_lower_index():
    centroid = np.array([1.0, 0.0])
    X = np.array([[0.6, 0.8], [1.0, 0.0], [0.8, 0.6], [1.0, 0.0]])
    assert representatives(X, centroid, 3).tolist() == [1, 3, 2]
    assert representatives(X, centroid, 10).tolist() == [1, 3, 2, 0]
    assert representatives(X[:0], centroid, 3).tolist() == []


def test_shorten_cuts_at_a_word_boundary_with_an_ellipsis():
    text = "We would need the security team to review the data processing agreement first"
    short = shorten(text, 40)
    assert len(short) <= 40 and short.endswith("…")
    assert text.startswith(short[:-1])
    assert text[len(short) - 1] == " "  # the cut falls between words
    assert shorten("Too pricey", 40) == "Too pricey"


def test_label_prefers_a_central_quote_that_fits_and_uses_keywords():
    texts = [
        "The price per seat is too high for our budget",
        "um, so the price is high and honestly I think our budget this year is gone, that's it",
        "Something else entirely",
    ]
    X = np.array([[0.95, 0.31], [1.0, 0.0], [0.0, 1.0]])
    label = cluster_label(texts, X, np.array([1.0, 0.0]), ["price", "budget"])
    assert label == "The price per seat is too high for our budget"


def test_label_cuts_a_long_quote_at_a_clause_and_strips_leading_fillers():
    texts = ["um, so, " + "the renewal price went up again and nobody warned us about it at all"]
    label = cluster_label(texts, np.array([[1.0, 0.0]]), np.array([1.0, 0.0]), ["renewal"])
    assert label == "The renewal price went up again"
    assert len(label) <= MAX_LABEL_CHARS


def test_label_skips_fragments_that_need_their_context():
    texts = ["One on the approval rules, from our side", "Plus the equipment vendor invoices",
             "Our CFO has to sign off on anything over ten thousand",
             "the CFO signs off on every new vendor, honestly"]
    X = np.array([[1.0, 0.0], [0.99, 0.1], [0.9, 0.2], [0.9, 0.3]])
    keywords = ["cfo", "sign"]
    label = cluster_label(texts, X, np.array([1.0, 0.0]), keywords)
    assert label in {"Our CFO has to sign off on anything over ten thousand",
                     "The CFO signs off on every new vendor"}


def test_clauses_split_at_commas_and_conjunctions_and_drop_dangling_ends():
    quote = "Honestly, the three-year term is too long, and legal won't sign it. We'd need the"
    assert clauses(quote) == ["The three-year term is too long", "Legal won't sign it"]


def test_clauses_drop_reported_speech_and_subordinate_openings():
    # labels the demo once showed: "A software company says", "If we commit to three years"
    assert clauses("he's not going to give that up because a software company says") == [
        "He's not going to give that up"]
    assert clauses("if we commit to three years, we need a termination for convenience") == [
        "We need a termination for convenience"]


def test_a_confident_quote_wins_over_an_equally_central_unsure_one():
    texts = ["Talk in December about the rollout", "No rollout before December for us"]
    X = np.array([[1.0, 0.0], [1.0, 0.0]])
    label = cluster_label(texts, X, np.array([1.0, 0.0]), ["december", "rollout"], [0.3, 0.9])
    assert label == "No rollout before December for us"


@pytest.mark.slow
@pytest.mark.parametrize("fragment", [
    "Some of our invoices", "With the grant timing", "Already signed off by their legal",
    "Anything over twenty-five thousand", "If we commit to three years", "Goes to the board",
    "Find out in April it doesn't work", "The scripts we already have",
])
def test_demo_fragments_do_not_read_alone(nlp, fragment):
    assert reads_alone(nlp(fragment)) == 0.0


@pytest.mark.slow
@pytest.mark.parametrize(("clause", "grade"), [
    ("The three-year term is too long", 1.0), ("We don't sign three-year deals", 1.0),
    ("Need the CFO's sign-off", 0.6), ("Already pay for Gong", 0.6), ("Not this year", 0.3),
])
def test_clauses_that_name_a_theme_read_alone(nlp, clause, grade):
    assert reads_alone(nlp(clause)) == grade


@pytest.mark.slow
def test_a_question_reads_no_better_than_a_noun_phrase(nlp):
    # a demo implementation theme was labelled "Help with an integration?"
    assert reads_alone(nlp("Help with an integration?")) == 0.3
    assert reads_alone(nlp("What happens to our data?")) == 0.3
    assert reads_alone(nlp("I don't have the people for an integration project")) == 1.0


def test_a_clause_ending_on_a_word_that_points_back_loses_to_one_that_says_it_all():
    # a demo theme was labelled "I'm already maintaining nine of them"
    # two clauses of one quote, alike in every other way: the first would win the tie
    texts = ["we already maintain nine of them, we can't maintain another tool"]
    X = np.array([[1.0, 0.0]])
    label = cluster_label(texts, X, np.array([1.0, 0.0]), ["maintain"])
    assert label == "We can't maintain another tool"
    # with nothing better it still beats keywords
    alone = cluster_label(["We're paying double compared with them"], X[:1], np.array([1.0, 0.0]),
                          ["double", "paying"])
    assert alone == "We're paying double compared with them"


def test_a_demonstrative_standing_for_what_was_said_loses_to_a_clause_naming_it():
    # demo labels: "I'd need that in the contract", "Right now I'm doing those as individual wires"
    centroid, X = np.array([1.0, 0.0]), np.array([[1.0, 0.0], [0.9, 0.44]])
    twelve = "We don't want to sign a twelve-month contract for five locations"
    label = cluster_label(["I'd need that in the contract", twelve], X, centroid, ["contract"])
    assert label == twelve
    texts = ["Right now I'm doing those as individual wires through the bank portal",
             "Individual wires through the portal take me hours every week"]
    assert cluster_label(texts, X, centroid, ["wires"]) == texts[1]
    # a demonstrative heading its noun says what it is
    label = cluster_label(["I'd need that contract in writing", twelve], X, centroid, ["contract"])
    assert label == "I'd need that contract in writing"


def test_a_clause_opening_on_what_was_just_said_loses_to_one_naming_its_subject():
    # demo labels: "That's a real gap" (foreign currencies), "It'll be available next year"
    centroid = np.array([1.0, 0.0])
    texts = ["if we can't pay them in pesos, that's a real gap", "Missing currency is a real gap"]
    X = np.array([[1.0, 0.0], [0.6, 0.8]])
    assert cluster_label(texts, X, centroid, ["gap"]) == "Missing currency is a real gap"
    texts = ["It'll ship in the spring release", "The payroll module ships in the spring"]
    assert cluster_label(texts, X, centroid, ["spring"]) == "The payroll module ships in the spring"


def test_a_demonstrative_heading_its_noun_names_the_subject():
    # "These contracts" says what; "That's" points back at what was just said
    texts = ["These contracts lock us in for three years", "three years is a long lock-in",
             "a three-year term for a tool we haven't tried"]
    X = np.array([[1.0, 0.0], [0.9, 0.3], [0.8, 0.5]])
    label = cluster_label(texts, X, np.array([1.0, 0.0]), ["three years", "term"])
    assert label == "These contracts lock us in for three years"
    # a demo price theme: "That adds up" points back as "That's" does
    texts = ["That adds up to a lot more than what Paystream quoted us",
             "Paystream quoted us a lot less for the same seats"]
    X = np.array([[1.0, 0.0], [0.6, 0.8]])
    label = cluster_label(texts, X, np.array([1.0, 0.0]), ["paystream", "quoted"])
    assert label == "Paystream quoted us a lot less for the same seats"


def test_a_long_clause_keeps_its_head_before_a_condition():
    # a demo price theme was labelled "It was garbage on anything with more than like ten lines"
    quote = "I couldn't get a new software line item through right now if it cost a hundred a month"
    assert clauses(quote) == ["I couldn't get a new software line item through right now"]
    # ... unless the head leaves the point to the condition
    assert clauses("They don't have to use it unless we put it in the franchise agreement") == []
    # ... or its object to the words around it
    assert clauses("We wouldn't be able to use it unless it integrates with SAP on day one") == []


def test_a_head_whose_object_is_the_condition_is_no_candidate():
    # "I don't know" if ... / "I'm not sure" whether ...: the point is in what follows
    quote = "I don't know if the team would actually use another dashboard on top of everything"
    assert clauses(quote) == []
    assert clauses("I'm not sure whether we have the budget for another tool next year") == []
    texts = [quote, "I don't know whether our reps would ever log into a second tool every day",
             "Adoption has always been the problem with new tools for our reps"]
    X = np.array([[1.0, 0.0], [0.95, 0.31], [0.6, 0.8]])
    label = cluster_label(texts, X, np.array([1.0, 0.0]), ["reps", "tool"])
    assert label == "Adoption has always been the problem with new tools for our reps"


@pytest.mark.slow
def test_verbs_sharing_an_object_are_not_cut_apart(nlp):
    # the demo's top objection theme was labelled "The contract has to let us add"
    quote = ("So the contract has to let us add and remove franchisee entities during the term "
             "without renegotiating")
    assert clauses(quote, nlp) == []
    texts = [quote, "Every new location would mean renegotiating the contract"]
    X = np.array([[1.0, 0.0], [0.8, 0.6]])
    label = cluster_label(texts, X, np.array([1.0, 0.0]), ["contract", "franchisee"], nlp=nlp)
    assert label == "Every new location would mean renegotiating the contract"
    # a verb with its own subject after "and" still starts a clause of its own
    assert clauses("the renewal price went up again and nobody warned us about it at all", nlp) == [
        "The renewal price went up again", "Nobody warned us about it at all"]


def test_right_now_is_not_a_filler():
    # a demo competitor theme was labelled "Now Paystream is ahead"
    assert clauses("right, right now Paystream is ahead") == ["Right now Paystream is ahead"]


@pytest.mark.slow
def test_label_prefers_a_sentence_over_a_central_fragment(nlp):
    # a demo theme labelled "Some of our invoices" (its most central quote's first clause)
    texts = ["Some of our invoices, especially expert witnesses, reference client names",
             "invoices come in every way possible.",
             "If it's a new vendor, it just breaks."]
    X = np.array([[1.0, 0.0], [0.9, 0.3], [0.8, 0.5]])
    keywords = ["invoices", "vendor"]
    assert cluster_label(texts, X, np.array([1.0, 0.0]), keywords) == "Some of our invoices"
    assert cluster_label(texts, X, np.array([1.0, 0.0]), keywords, nlp=nlp) == (
        "Invoices come in every way possible")


def test_label_falls_back_to_keywords_when_no_clause_reads_alone():
    texts = ["Yeah.", "Hmm, the, uh"]
    X = np.array([[1.0, 0.0], [0.9, 0.1]])
    assert cluster_label(texts, X, np.array([1.0, 0.0]), ["price", "budget"]) == (
        "price · budget")


def test_label_without_texts_falls_back_to_keywords():
    empty = np.zeros((0, 2))
    assert cluster_label([], empty, np.array([1.0, 0.0]), ["price", "budget", "seat", "x"]) == (
        "price · budget · seat"
    )


@pytest.mark.slow
def test_real_sentences_cluster_by_topic_and_get_fitting_labels(embedder):
    topics = (PRICE, SECURITY, INTEGRATION)
    topic_words = ({"price", "budget"}, {"security", "data"}, {"salesforce", "integration"})
    texts = [t for topic in topics for t in topic]
    truth = np.repeat([0, 1, 2], 10)
    X = embedder.encode(texts)
    result = cluster_embeddings(X, ClusterConfig(reducer="pca"))
    clustered = result.labels >= 0
    assert clustered.mean() >= 0.9
    # small themes are kept apart ("where is the data hosted" vs "we need SOC 2"), so a topic
    # may come as two themes; what must hold is that no theme mixes topics
    members = {c: np.flatnonzero(result.labels == c) for c in range(result.n_clusters)}
    majority = {c: np.bincount(truth[idx], minlength=3).argmax() for c, idx in members.items()}
    pure = sum(int(np.sum(truth[idx] == majority[c])) for c, idx in members.items())
    assert pure / clustered.sum() >= 0.9
    assert set(majority.values()) == {0, 1, 2}
    keywords = ctfidf_keywords({c: [texts[i] for i in idx] for c, idx in members.items()})
    for c, idx in members.items():
        assert set(keywords[c][0].split()) & topic_words[majority[c]]
        label = cluster_label([texts[i] for i in idx], X[idx], result.centroids[c], keywords[c])
        assert label.rstrip("…").lower() in " | ".join(topics[majority[c]]).lower()
