"""Objection, question and pain extraction: components on hand-built docs, then the real models."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
import spacy
from spacy.attrs import LEMMA, ORTH
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.pipeline import SpanRuler
from spacy.tokens import Doc

from pipelines.extraction import Extractor, add_components
from pipelines.extraction.key_phrases import key_phrases
from pipelines.extraction.rule_scorers import (
    OTHERS_BLOCK,
    CategoryEvidence,
    LogisticModel,
    load_scorers,
    mean_of_others,
)
from pipelines.extraction.screened_matcher import ScreenedMatcher, WordScreen, required_values
from pipelines.extraction.step1_segments import (
    BACKCHANNEL_KEY,
    FILLERS_KEY,
    FILLERS_PATH,
    SEGMENTS_KEY,
)
from pipelines.extraction.step2_cues import CUES_KEY, CueRuler, load_patterns
from pipelines.extraction.step3_polarity import HEDGED_KEY, KEPT_KEY, NEUTRALISED_KEY
from pipelines.extraction.step4_features import add_context, all_features, cues_by_segment
from pipelines.extraction.step5_model import (
    RULE_FEATURES,
    Lexical,
    Linear,
    blank_model,
    load_model,
    save_model,
)
from pipelines.extraction.step6_narrowing import clause_chunks, narrow
from pipelines.extraction.taxonomy import DEFAULT_TAXONOMY, category_names, extend_taxonomy
from pipelines.extraction.training.candidates import keyword_category
from pipelines.extraction.training.crossfit import out_of_fold_logits
from pipelines.extraction.training.dataset import CATEGORIES, Segments, gold_category
from pipelines.extraction.training.decisions import best_f1_threshold, precision_threshold
from pipelines.extraction.training.labels import (
    DEV_FILES,
    TEST_FILES,
    load_turns,
    split_of,
    turn_from_row,
)

# ---------------------------------------------------------------- components on hand-built docs


@pytest.fixture(scope="module")
def blank() -> Language:
    """A blank English pipeline carrying only our components: no trained model involved."""
    return add_components(spacy.blank("en"))


def run(nlp: Language, doc: Doc) -> Doc:
    for _, component in nlp.pipeline:
        doc = component(doc)
    return doc


def tagged(nlp: Language, words: list[str], lemmas: list[str] | None = None, **kwargs) -> Doc:
    """A hand-built doc with lemmas (lowercased words unless given) and a placeholder POS."""
    spaces = [
        not (k + 1 < len(words) and words[k + 1] in {".", ",", "?", "!"}) for k in range(len(words))
    ]
    return Doc(
        nlp.vocab,
        words=words,
        spaces=spaces,
        lemmas=lemmas or [w.lower() for w in words],
        pos=kwargs.pop("pos", ["X"] * len(words)),
        **kwargs,
    )


def parsed(nlp: Language, rows: list[tuple[str, str, str, str, int]]) -> Doc:
    """A doc from (word, lemma, pos, dep, head index) rows, as a parser would have left it."""
    words, lemmas, pos, deps, heads = (list(column) for column in zip(*rows, strict=True))
    return Doc(nlp.vocab, words=words, lemmas=lemmas, pos=pos, deps=deps, heads=heads)


def labelled(doc: Doc, key: str) -> list[tuple[str, str]]:
    return [(span.text, span.label_) for span in doc.spans[key]]


def test_components_register_once_and_in_order(blank: Language):
    assert blank.pipe_names == ["verbatim_segments", "verbatim_cues", "verbatim_cue_polarity"]
    assert add_components(blank).pipe_names == blank.pipe_names


def test_cue_ruler_matches_lemmas_from_the_pattern_file(blank: Language):
    doc = tagged(
        blank,
        ["The", "prices", "are", "way", "too", "high"],
        ["the", "price", "be", "way", "too", "high"],
        pos=["DET", "NOUN", "AUX", "ADV", "ADV", "ADJ"],
    )
    cues = labelled(run(blank, doc), CUES_KEY)
    assert ("prices are way too high", "objection:price") in cues
    assert ("prices", "topic:price") in cues


def test_required_values_skip_optional_negated_and_unpinned_tokens():
    pattern = [
        {"LEMMA": {"IN": ["price", "cost"], "NOT_IN": ["fee"]}},
        {"lower": "is", "OP": "?"},
        {"LOWER": "not", "OP": "!"},
        {"POS": "ADV", "OP": "*"},
        {"TEXT": "high", "OP": "+"},
        {"LEMMA": {"REGEX": "^hi"}},
    ]
    assert required_values(pattern) == [
        (LEMMA, frozenset({"price", "cost"})),
        (ORTH, frozenset({"high"})),
    ]


def test_cue_ruler_finds_what_a_span_ruler_finds(blank: Language):
    patterns = load_patterns() + [
        {"label": "t", "id": "optional", "pattern": [{"LOWER": "way", "OP": "?"}, {"LOWER": "too"}]},
        {"label": "t", "id": "negated", "pattern": [{"LOWER": "too", "OP": "!"}, {"LEMMA": "high"}]},
        {"label": "t", "id": "phrase", "pattern": "too high"},
    ]
    docs = [
        tagged(blank, ["The", "prices", "are", "way", "too", "high"],
               ["the", "price", "be", "way", "too", "high"], pos=["DET", "NOUN", "AUX", "ADV", "ADV", "ADJ"]),
        tagged(blank, ["Not", "a", "good", "time", ",", "so", "high", "."]),
        tagged(blank, ["We", "ca", "n't", "afford", "it"], ["we", "can", "not", "afford", "it"]),
    ]
    cue, plain = CueRuler(blank, "cue"), SpanRuler(blank, "plain")
    for ruler in (cue, plain):
        ruler.add_patterns(patterns)
        ruler.remove_by_id("price-expensive")

    def found(ruler: SpanRuler) -> list[list[tuple]]:
        return [[(s.start, s.end, s.label_, s.id_) for s in ruler.match(doc)] for doc in docs]

    assert found(cue) == found(plain)
    assert all(found(cue))


def test_negated_concern_is_neutralised_by_the_parse(blank: Language):
    doc = parsed(
        blank,
        [
            ("Price", "price", "NOUN", "nsubj", 1),
            ("is", "be", "AUX", "ROOT", 1),
            ("n't", "not", "PART", "neg", 1),
            ("an", "an", "DET", "det", 4),
            ("issue", "issue", "NOUN", "attr", 1),
        ],
    )
    doc = run(blank, doc)
    assert ("issue", "objection:concern") in labelled(doc, NEUTRALISED_KEY)
    assert not [s for s in doc.spans[KEPT_KEY] if s.label_.startswith("objection:")]


def test_the_same_concern_without_negation_is_kept(blank: Language):
    doc = parsed(
        blank,
        [
            ("Price", "price", "NOUN", "nsubj", 1),
            ("is", "be", "AUX", "ROOT", 1),
            ("an", "an", "DET", "det", 3),
            ("issue", "issue", "NOUN", "attr", 1),
        ],
    )
    assert ("issue", "objection:concern") in labelled(run(blank, doc), KEPT_KEY)


def test_negation_raised_through_think_neutralises(blank: Language):
    doc = parsed(
        blank,
        [
            ("I", "I", "PRON", "nsubj", 3),
            ("do", "do", "AUX", "aux", 3),
            ("n't", "not", "PART", "neg", 3),
            ("think", "think", "VERB", "ROOT", 3),
            ("cost", "cost", "NOUN", "nsubj", 5),
            ("is", "be", "AUX", "ccomp", 3),
            ("a", "a", "DET", "det", 7),
            ("concern", "concern", "NOUN", "attr", 5),
        ],
    )
    assert ("concern", "objection:concern") in labelled(run(blank, doc), NEUTRALISED_KEY)


def test_concern_inside_an_if_clause_is_hedged(blank: Language):
    doc = parsed(
        blank,
        [
            ("If", "if", "SCONJ", "mark", 2),
            ("cost", "cost", "NOUN", "nsubj", 2),
            ("becomes", "become", "VERB", "advcl", 7),
            ("a", "a", "DET", "det", 4),
            ("concern", "concern", "NOUN", "attr", 2),
            (",", ",", "PUNCT", "punct", 7),
            ("we", "we", "PRON", "nsubj", 7),
            ("talk", "talk", "VERB", "ROOT", 7),
        ],
    )
    assert ("concern", "objection:concern") in labelled(run(blank, doc), HEDGED_KEY)


def test_without_a_parser_a_negator_just_before_the_cue_neutralises(blank: Language):
    doc = tagged(blank, ["We", "are", "not", "worried", "about", "security"])
    doc = run(blank, doc)
    assert not doc.has_annotation("DEP")
    assert ("worried", "objection:concern") in labelled(doc, NEUTRALISED_KEY)


def test_a_concern_answered_after_but_is_neutralised(blank: Language):
    words = ["It", "is", "expensive", ",", "but", "we", "will", "find", "the", "money"]
    doc = run(blank, tagged(blank, words))
    assert ("expensive", "objection:price") in labelled(doc, NEUTRALISED_KEY)


def test_a_second_objection_after_but_keeps_both(blank: Language):
    words = ["It", "is", "expensive", ",", "but", "it", "is", "also", "too", "risky"]
    doc = run(blank, tagged(blank, words))
    kept = labelled(doc, KEPT_KEY)
    assert ("expensive", "objection:price") in kept
    assert ("risky", "objection:trust") in kept


def test_segments_drop_edge_fillers_and_filler_only_sentences(blank: Language):
    words = ["Um", ",", "you", "know", ",", "the", "price", "is", "high", ",", "you", "know", "."]
    words += ["So", "yeah", "."]
    starts = [True] + [False] * 12 + [True, False, False]
    doc = run(blank, tagged(blank, words, sent_starts=starts))
    assert [s.text for s in doc.spans[SEGMENTS_KEY]] == ["the price is high"]
    assert {s.label_ for s in doc.spans[FILLERS_KEY]} <= {"filler", "filler:punct"}


def test_segment_fillers_are_what_one_matcher_finds_in_document_order(blank: Language):
    matcher = Matcher(blank.vocab)
    for entry in load_patterns(FILLERS_PATH):
        matcher.add(entry["label"], [entry["pattern"]])
    words = ["So", "yeah", ",", "I", "mean", ",", "can", "you", "hear", "me", "?", "Um", "well"]
    words += [",", "you", "know", ",", "it", "is", "kind", "of", "pricey", ",", "honestly", "."]
    doc = run(blank, tagged(blank, words))
    expected = [(s.start, s.end, s.label_) for s in matcher(doc, as_spans=True)
                if s.label_ != "backchannel"]
    assert [(s.start, s.end, s.label_) for s in doc.spans[FILLERS_KEY]] == expected
    assert len(expected) >= 6


def test_a_span_two_patterns_of_one_key_match_comes_once(blank: Language):
    patterns = [("filler", [{"LOWER": {"IN": ["um", "so"]}}]), ("filler", [{"LOWER": "so"}])]
    plain = Matcher(blank.vocab)
    for key, pattern in patterns:
        plain.add(key, [pattern])
    doc = tagged(blank, ["So", "the", "price"])
    assert ScreenedMatcher(blank.vocab, patterns)(doc) == plain(doc)
    assert len(plain(doc)) == 1


def test_word_screen_files_a_pattern_under_the_words_it_requires(blank: Language):
    screen = WordScreen([
        [{"LEMMA": "price"}, {"LOWER": {"IN": ["high", "steep"]}}],
        [{"LOWER": "price"}],
        [{"POS": "ADJ"}],
    ])
    doc = tagged(blank, ["Prices", "are", "steep"], ["price", "be", "steep"])
    assert screen.candidates(doc) == [0, 2]  # "price" is a lemma here, not a lowercased word
    assert screen.candidates(tagged(blank, ["The", "price", "."])) == [1, 2]


def test_separated_fillers_need_punctuation_to_be_dropped(blank: Language):
    doc = run(blank, tagged(blank, ["Look", "at", "the", "price", "."]))
    assert [s.text for s in doc.spans[SEGMENTS_KEY]] == ["Look at the price."]
    doc = run(blank, tagged(blank, ["Look", ",", "the", "price", "."]))
    assert [s.text for s in doc.spans[SEGMENTS_KEY]] == ["the price."]


def test_whole_backchannel_segments_are_marked(blank: Language):
    doc = run(blank, tagged(blank, ["Can", "you", "hear", "me", "?"]))
    assert [s.text for s in doc.spans[BACKCHANNEL_KEY]] == ["Can you hear me?"]


def test_clause_chunks_split_at_comma_before_a_new_clause(blank: Language):
    words = [
        "We",
        "have",
        "seasonal",
        "staff",
        ",",
        "so",
        "we",
        "would",
        "pay",
        "for",
        "empty",
        "seats",
        ".",
    ]
    doc = run(blank, tagged(blank, words))
    segment = doc[:]
    assert [doc[a:b].text for a, b in clause_chunks(segment)] == [
        "We have seasonal staff",
        "so we would pay for empty seats.",
    ]
    cue = doc[8:11]
    assert narrow(segment, [cue]).text == "we would pay for empty seats."
    assert narrow(segment, []) is segment


def test_key_phrases_without_a_parser_fall_back_to_lowercased_content_words(blank: Language):
    doc = tagged(
        blank,
        ["The", "Invoices", "pile", "up"],
        ["the", "invoice", "pile", "up"],
        pos=["DET", "NOUN", "VERB", "ADP"],
    )
    assert key_phrases(doc[:]) == ("invoice pile",)


def test_mean_of_others_is_each_segments_mean_over_the_rest_exactly():
    rng = np.random.default_rng(0)
    for n in (5, OTHERS_BLOCK + 7):  # one block, and more than one
        evidence = [CategoryEvidence(*rng.random((3, 9))) for _ in range(n)]
        context = mean_of_others(evidence)
        assert len(context) == n
        for k, mean in enumerate(context):
            rest = evidence[:k] + evidence[k + 1 :]
            for name in ("similarity", "rule", "topic"):
                expected = np.mean([getattr(e, name) for e in rest], axis=0)
                assert np.array_equal(getattr(mean, name), expected)
    assert mean_of_others(evidence[:1]) == [None]


def test_logistic_model_is_monotone_and_bounded():
    model = LogisticModel(bias=-1.0, weights={"cue": 2.0})
    low, high = model.probability({}), model.probability({"cue": 1.0})
    assert 0.0 < low < 0.5 < high < 1.0
    assert model.probability({"cue": 1e6}) <= 1.0


def test_stored_scorer_weights_name_only_features_the_pipeline_produces(blank: Language):
    doc = run(blank, tagged(blank, ["It", "is", "too", "expensive", "."]))
    segment = doc.spans[SEGMENTS_KEY][0]
    features = [all_features(segment, cues_by_segment(doc, [segment])[0], (0.4, 0.3, 0.2, 0.1))]
    add_context(features)
    scorers = load_scorers()
    assert set(scorers.objection.weights) <= set(features[0])
    assert set(scorers.pain.weights) <= set(features[0])
    assert 0.0 < scorers.objection.threshold < 1.0


# ---------------------------------------------------------------- the real models


@pytest.fixture(scope="module")
def extractor(nlp, embedder) -> Extractor:
    return Extractor(nlp, embedder)


def objections(mentions):
    return [m for m in mentions if m.kind == "objection"]


def confident(mentions):
    """The objections that reach the feed (confidence at or above the feed threshold)."""
    return [m for m in objections(mentions) if m.confident]


@pytest.mark.slow
def test_extractor_leaves_the_shared_pipeline_untouched(extractor, nlp):
    assert "verbatim_cues" not in nlp.pipe_names


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "Price isn't really an issue for us.",
        "We're not worried about security at all, your team covered it.",
        "If budget weren't a problem, we'd roll it out to every office.",
        "I don't think the contract length is a concern for us.",
        "I was nervous about the migration, but your plan answered all of that.",
    ],
)
def test_negated_and_hedged_concerns_are_not_objections(extractor, text):
    found = objections(extractor.extract([text])[0])
    assert confident(found) == []
    assert all(m.confidence < extractor.model.feed_threshold for m in found)


@pytest.mark.slow
def test_a_question_voicing_doubt_is_a_trust_objection(extractor):
    [found] = extractor.extract(["How do I know this will actually work for a team like ours?"])
    [mention] = objections(found)
    assert mention.category == "trust"
    assert extractor.model.threshold <= mention.confidence <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize(
    "category, text",
    [
        ("price", "Honestly the monthly cost is way more than we budgeted for."),
        ("timing", "We're slammed until after the holidays, so let's revisit this in February."),
        ("authority", "I'd need to run this by our CFO before anything gets signed."),
        ("need", "We don't really need this, our current spreadsheet works fine."),
        ("competitor", "We already use HubSpot for all of this and the team likes it."),
        ("trust", "I'm skeptical, we got burned by a vendor with big promises last year."),
        ("implementation", "Migrating our data and retraining forty reps would be a huge lift."),
        ("contract", "We can't sign a three-year contract, our policy caps terms at one year."),
        ("feature", "It doesn't support single sign-on, which our IT team requires."),
    ],
)
def test_each_category_on_a_clear_example(extractor, category, text):
    found = objections(extractor.extract([text])[0])
    assert [m.category for m in found] == [category]


@pytest.mark.slow
def test_quotes_are_exact_substrings_with_their_offsets(extractor):
    texts = [
        "Um, so, the price is just too high for us right now, you know?",
        "We spend hours every week reconciling spreadsheets. Can it sync with NetSuite?",
        "I like it. But honestly, my boss has to approve anything over five grand.",
        "  Yeah.  ",
        "",
    ]
    results = extractor.extract(texts)
    assert len(results) == len(texts)
    mentions = [(text, m) for text, found in zip(texts, results, strict=True) for m in found]
    assert len(mentions) >= 4
    for text, mention in mentions:
        assert text[mention.start : mention.end] == mention.text
        assert mention.text == mention.text.strip()
        assert mention.kind in {"objection", "question", "pain"}
        assert 0.0 <= mention.confidence <= 1.0


@pytest.mark.slow
def test_edge_fillers_are_trimmed_from_quotes(extractor):
    text = "Um, you know, honestly the price is way too high for us, you know?"
    [mention] = objections(extractor.extract([text])[0])
    assert mention.text == "the price is way too high for us"
    assert mention.start == text.index("the price")


@pytest.mark.slow
def test_quote_narrows_to_the_clause_with_the_objection(extractor):
    text = "We've got a lot going on, so I'd rather revisit this next quarter."
    [mention] = objections(extractor.extract([text])[0])
    assert mention.text == "I'd rather revisit this next quarter."
    assert mention.category == "timing"


@pytest.mark.slow
def test_pain_and_question_kinds(extractor):
    pain, question = extractor.extract(
        [
            "Every month our team spends days chasing approvals over email.",
            "What does onboarding usually look like for a new customer?",
        ]
    )
    assert [m.kind for m in pain] == ["pain"]
    assert "chase approval" in pain[0].key_phrases
    assert [m.kind for m in question] == ["question"]


@pytest.mark.slow
def test_backchannel_and_small_talk_make_no_mentions(extractor):
    texts = ["Can you hear me?", "yeah", "How are you doing today?", "Sounds good, thanks!"]
    assert extractor.extract(texts) == [[], [], [], []]


@pytest.mark.slow
def test_key_phrases_are_normalised(extractor):
    [mention] = objections(
        extractor.extract(["Our budgets were cut and the prices are too high."])[0]
    )
    assert mention.category == "price"
    assert all(p == p.lower() and p.strip() == p for p in mention.key_phrases)
    assert "budget" in mention.key_phrases and "price" in mention.key_phrases


@pytest.mark.slow
def test_batches_give_the_same_answer_as_one_call(extractor):
    texts = ["It's too expensive.", "Can you hear me?", "We already use Gong."] * 3
    small = copy.copy(extractor)
    small.batch_size = 2
    assert small.extract(texts) == extractor.extract(texts)
    assert extractor.extract([]) == []


@pytest.mark.slow
def test_a_workspace_category_is_found_by_its_prototypes(nlp, embedder):
    # A few default categories keep the prototype encoding (and the test) short.
    taxonomy = extend_taxonomy(
        DEFAULT_TAXONOMY[:3],
        "accessibility",
        [
            "Our blind employees rely on screen readers, so it has to support them.",
            "Is the interface WCAG compliant?",
            "Keyboard-only navigation is a requirement for our staff with disabilities.",
        ],
        "Accessibility for staff with disabilities.",
    )
    extractor = Extractor(nlp, embedder, taxonomy)
    text = "I'm worried about our blind staff, they depend on screen readers every day."
    [mention] = objections(extractor.extract([text])[0])
    assert mention.category == "accessibility"


# ---------------------------------------------------------------- the learned model and its data


def test_split_holds_out_whole_files_and_names_only_files_that_exist():
    turns = load_turns()
    split_by_file = {t.file: t.split for t in turns}
    assert TEST_FILES | DEV_FILES <= set(split_by_file)
    assert not TEST_FILES & DEV_FILES
    assert {t.split for t in turns if t.file == "own-stt-b2b-16"} == {"test"}
    assert split_of("public-newset-01") == "train"
    train_sources = {t.source for t in turns if t.split == "train"}
    assert "public-multidogo" not in train_sources and "public-negochat" not in train_sources
    groups = {s: {t.group for t in turns if t.split == s} for s in ("train", "dev", "test")}
    assert not groups["train"] & groups["test"] and not groups["train"] & groups["dev"]


def test_turns_load_every_gold_quote_as_an_exact_substring():
    rows = [
        {"id": "a-1", "source": "own-clean", "group": "g1", "text": "Fine. Too pricey, and IT is busy.",
         "objection": True, "category": "price", "quote": "Too pricey",
         "extra": [{"quote": "IT is busy", "category": "timing"}], "context": None},
        {"id": "a-2", "source": "own-clean", "group": "g1", "text": "yeah",
         "objection": False, "category": None, "quote": None},
    ]
    turns = [turn_from_row(row) for row in rows]
    assert [o.category for o in turns[0].objections] == ["price", "timing"]
    assert turns[0].category == "price" and not turns[1].objection
    text = turns[0].text
    assert gold_category(turns[0], 0, 5) == -1
    assert CATEGORIES[gold_category(turns[0], 6, len(text))] == "price"
    assert CATEGORIES[gold_category(turns[0], text.index("IT"), len(text))] == "timing"


def test_model_round_trips_and_refuses_other_features(tmp_path):
    model = blank_model(4, ("price", "timing"))
    path = tmp_path / "m.npz"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.categories == ("price", "timing")
    assert loaded.threshold == model.threshold
    x = np.ones((3, 8 + len(RULE_FEATURES)))
    texts = ["too pricey", "sounds good", "we can't justify it"]
    assert np.allclose(loaded.confidence(x, texts), model.confidence(x, texts))
    with np.load(path) as raw:
        arrays = dict(raw)
    arrays["meta"] = np.array(str(arrays["meta"]).replace("sim_pain", "other"))
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="train-extractor"):
        load_model(path)


def test_lexical_model_round_trips_and_reads_the_words(tmp_path):
    vocabulary = ("pricey", "too", "too pricey", "good")
    lexical = Lexical(
        vocabulary,
        np.ones(4),
        objection=Linear(np.array([[2.0, 0.5, 1.0, -2.0]]), np.array([-1.0])),
        category=Linear(np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]), np.zeros(2)),
    )
    model = replace(blank_model(4, ("price", "timing")), lexical=lexical)
    path = tmp_path / "m.npz"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.lexical is not None and loaded.lexical.vocabulary == vocabulary
    texts = ["Too pricey for us.", "Sounds good."]
    logits = loaded.lexical.objection_logits(texts)
    assert logits[0] > 0 > logits[1]
    assert np.allclose(logits, lexical.objection_logits(texts))
    x = np.ones((2, 8 + len(RULE_FEATURES)))
    assert loaded.category_scores(np.zeros((2, 4 + 6)), texts)[0].argmax() == 0
    assert np.allclose(loaded.confidence(x, texts), model.confidence(x, texts))


def test_tuned_weights_round_trip_and_are_required_when_set(tmp_path):
    model = replace(blank_model(4, ("price", "timing")), tuned_weight=0.5,
                    tuned_category_weight=1.0)
    path = tmp_path / "m.npz"
    save_model(model, path)
    loaded = load_model(path)
    assert (loaded.tuned_weight, loaded.tuned_category_weight) == (0.5, 1.0)
    x = np.zeros((2, 8 + len(RULE_FEATURES)))
    texts = ["too pricey", "sounds good"]
    with pytest.raises(ValueError, match="fine-tuned"):
        loaded.confidence(x, texts)
    tuned = np.array([4.0, -4.0])
    logits = loaded.objection_logits(x, texts, tuned)
    assert np.allclose(logits - blank_model(4, ("price", "timing")).objection_logits(x, texts),
                       [2.0, -2.0])
    scores = loaded.category_scores(np.zeros((2, 4 + 6)), texts, np.array([[3.0, 0.0], [0.0, 3.0]]))
    assert list(scores.argmax(1)) == [0, 1]


@pytest.mark.slow
def test_tuned_transformer_splits_minilm_at_layer_four_without_changing_it():
    """Layers 1-4 cached, then the (untrained) top layers: the same states as the whole
    shipped model on the segment pair, up to the float16 cache."""
    import torch

    from pipelines.extraction.step5_transformer import (
        batch_tensors,
        cache_pairs,
        head_class,
        load_base,
        pair_ids,
    )

    bert, tokenizer = load_base()
    texts, contexts = ["We can't afford it this year.", "ok"], ["What's your budget?", None]
    rows = pair_ids(tokenizer, texts, contexts)
    assert rows[1][0] == [tokenizer.token_to_id("[CLS]"), rows[1][0][1],
                          tokenizer.token_to_id("[SEP]")]
    assert 1 in rows[0][1] and set(rows[1][1]) == {0}
    head = head_class()(bert).eval()
    with torch.inference_mode():
        pooled = head.pooled(*batch_tensors(cache_pairs(bert, tokenizer, texts, contexts), [0, 1]))
        width = max(len(ids) for ids, _ in rows)
        ids = torch.tensor([r[0] + [0] * (width - len(r[0])) for r in rows])
        types = torch.tensor([r[1] + [0] * (width - len(r[1])) for r in rows])
        mask = torch.tensor([[1] * len(r[0]) + [0] * (width - len(r[0])) for r in rows])
        full = bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
        own = (mask * (types == 0)).unsqueeze(-1).float()
        expected = (full * own).sum(1) / own.sum(1)
    assert torch.allclose(pooled, expected, atol=3e-3)


def test_shipped_model_thresholds_are_ordered():
    model = load_model()
    assert 0.0 < model.threshold <= model.feed_threshold < 1.0
    assert model.categories == category_names(DEFAULT_TAXONOMY)


class RecordingEmbedder:
    """The real embedder, noting every text it is asked to encode."""

    def __init__(self, inner) -> None:
        self.inner, self.texts = inner, []

    def encode(self, texts):
        self.texts.extend(texts)
        return self.inner.encode(texts)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.slow
def test_rep_turns_are_encoded_only_for_a_model_that_reads_them(nlp, embedder):
    shipped = load_model()
    assert not shipped.uses_context  # fitted with the rep-turn block zeroed
    coef = shipped.objection.coef.copy()
    coef[:, embedder.dim] = 1.0  # one weight in the rep-turn block
    reading = replace(shipped, objection=Linear(coef, shipped.objection.bias))
    assert reading.uses_context
    turn, rep = ["We can't afford it this year."], ["What budget did you set aside for this?"]
    for model, encoded in ((shipped, False), (reading, True)):
        recorder = RecordingEmbedder(embedder)
        Extractor(nlp, recorder, model=model).extract(turn, rep)
        assert (rep[0] in recorder.texts) is encoded


def test_precision_threshold_is_the_lowest_that_reaches_the_target():
    # ten turns with one segment each: confidence k/10, objection when k >= 5
    segs = Segments(
        turn=np.arange(10), start=np.zeros(10), end=np.ones(10),
        label=(np.arange(10) >= 5).astype(int), category=np.where(np.arange(10) >= 5, 0, -1),
        turn_label=(np.arange(10) >= 5).astype(int), objection_x=np.zeros((10, 1)),
        category_x=np.zeros((10, 1)), legacy_p=np.zeros(10), legacy_category=np.zeros(10),
        texts=("x",) * 10,
    )
    confidence = np.arange(10) / 10
    assert precision_threshold(segs, confidence, 0.85, min_support=2) == pytest.approx(0.41)
    assert best_f1_threshold(segs, confidence) == pytest.approx(0.41)


def test_out_of_fold_logits_score_each_file_with_a_model_fitted_without_it():
    # ten turns in five files of two; the recipe remembers the turns it was fitted on
    segs = Segments(
        turn=np.arange(10), start=np.zeros(10), end=np.ones(10), label=np.arange(10) % 2,
        category=np.zeros(10), turn_label=np.arange(10) % 2, objection_x=np.zeros((10, 1)),
        category_x=np.zeros((10, 1)), legacy_p=np.zeros(10), legacy_category=np.zeros(10),
        texts=("x",) * 10,
    )
    files = np.repeat([f"file-{k}" for k in range(5)], 2)

    def recipe(part: Segments):
        seen = set(part.turn.tolist())
        return lambda held: np.array([len(seen) + 100 * (t in seen) for t in held.turn], float)

    # every row scored, by a fit on the other four files (eight turns), never on its own
    assert out_of_fold_logits(segs, files, recipe).tolist() == [8.0] * 10


def test_keyword_tracker_follows_the_precedence_of_the_guide():
    assert keyword_category("the contract price is too high") == "contract"
    assert keyword_category("too expensive for us") == "price"
    assert keyword_category("sounds great") is None
