"""The text model: data rules, reproducible training, and the shipped model file."""

import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from text_models import assert_same_answers, assert_tolerance_tells_apart

from smishguard.engine.sms import ModelFileError, TextModel, load_default_model, train
from smishguard.engine.sms.dataset import (
    load_training_examples,
    merge_and_dedupe,
    normalise_for_dedupe,
    read_smishtank,
    split_examples,
)
from smishguard.engine.sms.model import DEFAULT_MODEL_PATH, DEFAULT_SEED, TRUSTED_TYPES


@pytest.fixture(scope="module")
def fresh(sms_data_dir: Path):
    return train(sms_data_dir, seed=DEFAULT_SEED)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Free entry in 2 a wkly comp!", "FREE ENTRY in 2 a wkly comp"),
        ("Win \u00a3100 now", "Win \ufffd100 now"),  # Mishra & Soni's copies lost the pound sign
        ("\uff37\uff49\uff4e now", "Win now"),  # full-width letters
    ],
)
def test_dedupe_key(a: str, b: str) -> None:
    assert normalise_for_dedupe(a) == normalise_for_dedupe(b)


def test_mishra_label_wins_and_dedupe_happens_before_split() -> None:
    uci = [("You have WON a prize, claim at prize.com", "spam"), ("see you soon", "ham"), ("only uci", "spam")]
    mishra = [("you have won a prize claim at prize.com!", "smishing"), ("See you soon.", "ham")]
    examples, stats = merge_and_dedupe(uci, mishra)
    labels = {normalise_for_dedupe(e.text): e.label for e in examples}
    assert labels[normalise_for_dedupe("you have won a prize claim at prize com")] == "smishing"
    assert labels[normalise_for_dedupe("only uci")] == "spam"
    assert stats.merged == 3
    assert stats.in_both == 2
    assert stats.label_conflicts == 1


def test_real_sets_are_deduplicated(sms_data_dir: Path) -> None:
    examples, stats = load_training_examples(sms_data_dir)
    keys = [normalise_for_dedupe(e.text) for e in examples]
    assert len(keys) == len(set(keys)) == stats.merged
    assert stats.merged < stats.uci_rows + stats.mishra_rows - 4000  # the sets overlap heavily
    assert stats.label_conflicts > 200  # UCI "spam" that Mishra & Soni call "smishing"
    assert set(stats.by_label) == {"ham", "spam", "smishing"}


def test_split_is_deterministic_and_disjoint(sms_data_dir: Path) -> None:
    examples, _ = load_training_examples(sms_data_dir)
    train1, test1 = split_examples(examples, seed=7)
    train2, test2 = split_examples(examples, seed=7)
    _, test3 = split_examples(examples, seed=8)
    assert test1 == test2
    assert train1 == train2
    assert test1 != test3
    assert not {normalise_for_dedupe(e.text) for e in train1} & {normalise_for_dedupe(e.text) for e in test1}


def test_smishtank_is_not_in_the_training_data(sms_data_dir: Path) -> None:
    examples, _ = load_training_examples(sms_data_dir)
    trained = {normalise_for_dedupe(e.text) for e in examples}
    smishtank = {normalise_for_dedupe(t) for t in read_smishtank(sms_data_dir)}
    assert len(smishtank) > 1000
    assert len(trained & smishtank) < 5  # at most a chance collision of a very short text


def test_shipped_model_loads_with_explicit_trusted_types() -> None:
    untrusted = sio.get_untrusted_types(file=DEFAULT_MODEL_PATH)
    assert set(untrusted) <= set(TRUSTED_TYPES)
    model = TextModel.load(DEFAULT_MODEL_PATH)
    assert model.classes == ("ham", "smishing", "spam")
    assert DEFAULT_MODEL_PATH.stat().st_size < 3_000_000
    assert load_default_model() is load_default_model()  # cached


def test_shipped_model_equals_fresh_seeded_training(fresh, heldout_texts: list[str], nearby_model) -> None:
    # Labels exactly, probabilities within a tolerance that another CPU's arithmetic stays inside and that a
    # model trained on other data (three training examples fewer) is far outside of.
    model, report = fresh
    shipped = load_default_model()
    texts = heldout_texts
    assert len(texts) == report.n_test > 1000
    assert shipped.terms == model.terms
    assert_same_answers(shipped, model, texts)
    assert_tolerance_tells_apart(shipped, nearby_model, texts)


def test_fast_path_equals_sklearn_predict_proba(fresh, sms_data_dir: Path) -> None:
    model, _ = fresh
    examples, _ = load_training_examples(sms_data_dir)
    texts = [e.text for e in examples[:500]]
    from smishguard.engine.sms import extract_links, link_features

    feats = [link_features(extract_links(t)) for t in texts]
    expected = model.classifier.predict_proba(model.design_matrix(texts, feats))
    np.testing.assert_allclose(model.probabilities(texts, feats), expected, rtol=1e-10, atol=1e-12)


def test_heldout_figures_are_reasonable(fresh) -> None:
    _, report = fresh
    heldout = report.heldout
    assert heldout["accuracy"] > 0.93
    assert heldout["per_class"]["ham"]["recall"] > 0.97
    assert heldout["per_class"]["smishing"]["recall"] > 0.7
    assert sum(map(sum, heldout["confusion_matrix"])) == report.n_test
    assert report.smishtank is not None
    assert report.smishtank["recall_unwanted"] > 0.8


def test_predict_shape() -> None:
    model = load_default_model()
    out = model.predict(["hello mum, home by 6", "", "WINNER!! claim your prize at bit.ly/x"])
    assert len(out) == 3
    for label, probs in out:
        assert label in {"ham", "spam", "smishing"}
        assert abs(sum(probs.values()) - 1.0) < 1e-9
    assert model.predict([]) == []


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip file", None],
)
def test_bad_model_file(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bad.skops"
    if content is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("schema.json", "{}")
    else:
        path.write_bytes(content)
    with pytest.raises(ModelFileError):
        TextModel.load(path)


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError):
        TextModel.load(tmp_path / "absent.skops")


def test_model_file_with_other_content_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.skops"
    sio.dump({"format": 999}, path)
    with pytest.raises(ModelFileError, match="not a smishguard text model"):
        TextModel.load(path)


def test_batch_with_texts_that_have_no_known_words_matches_single_predictions():
    """Rows without any known gram (empty text, gibberish) used to break the batched row norms."""
    from smishguard.engine.sms import load_default_model

    model = load_default_model()
    texts = ["URGENT your parcel is held pay the fee now", "", "zzqx", "call me back", ""]
    batched = model.probabilities(texts)
    for i, text in enumerate(texts):
        single = model.probabilities([text])[0]
        assert list(batched[i]) == pytest.approx(list(single), abs=1e-12), text


@pytest.fixture(scope="module")
def small_training(sms_data_dir: Path):
    examples, _ = load_training_examples(sms_data_dir)
    training, _ = split_examples(examples, seed=DEFAULT_SEED)
    return training[:1500]


def test_a_model_can_leave_the_link_features_out(small_training, tmp_path: Path) -> None:
    from smishguard.engine.sms import extract_links, link_features
    from smishguard.engine.sms.features import NO_LINKS
    from smishguard.engine.sms.model import fit

    texts = ["your parcel is held, pay the fee at bit.ly/abc now", "see you at 6 at 192.0.2.4", "hello"]
    feats = [link_features(extract_links(t)) for t in texts]
    none = [NO_LINKS] * len(texts)
    without = fit(small_training, seed=DEFAULT_SEED, links=False)
    assert not without.uses_links
    assert without.meta["links"] is False
    assert np.asarray(without.classifier.coef_).shape == (3, len(without.terms))
    # the link features make no difference to it...
    np.testing.assert_array_equal(without.probabilities(texts, feats), without.probabilities(texts, none))
    # ...and do to a model that reads them
    with_links = fit(small_training, seed=DEFAULT_SEED)
    assert with_links.uses_links
    assert with_links.meta["links"] is True
    assert not np.allclose(with_links.probabilities(texts, feats), with_links.probabilities(texts, none))
    # its fast path agrees with scikit-learn on its own design matrix
    np.testing.assert_allclose(
        without.probabilities(texts, feats),
        without.classifier.predict_proba(without.design_matrix(texts, feats)),
        rtol=1e-10,
        atol=1e-12,
    )
    # written and read back, by the plain reader and by skops, it is still a model without them
    path = without.save(tmp_path / "no-links.skops")
    for loaded in (TextModel.read_plain(path), TextModel.load(path)):
        assert not loaded.uses_links
        np.testing.assert_allclose(loaded.probabilities(texts), without.probabilities(texts), rtol=1e-12)


def test_model_whose_coefficients_do_not_match_its_link_setting_is_refused(small_training) -> None:
    from smishguard.engine.sms.model import fit

    with_links = fit(small_training, seed=DEFAULT_SEED)
    with pytest.raises(ModelFileError, match="coefficients have shape"):
        TextModel(with_links.terms, with_links.idf, with_links.classifier, {**with_links.meta, "links": False})
    without = fit(small_training, seed=DEFAULT_SEED, links=False)
    with pytest.raises(ModelFileError, match="coefficients have shape"):
        TextModel(without.terms, without.idf, without.classifier, {**without.meta, "links": True})
