"""The text model: ham / spam / smishing from the words of a text and brand-independent link signals.

A multinomial logistic regression over TF-IDF word unigrams and bigrams (digits folded to 0, so phone numbers,
amounts and codes share features) plus the link features of `features.LinkFeatures` (`fit(links=False)` leaves
them out; bench/select_sms_model.py compares the two by cross-validation and says why they stay). The
vectoriser is ours (vocabulary and idf learnt on the training split; sub-linear tf, l2 norm, as scikit-learn's
TfidfVectorizer computes them) so that a batch of texts is turned into a sparse matrix with a handful of numpy
operations: the engine has to keep well above 20,000 messages a second on one core.

The shipped model (model.skops) is stored with skops, which keeps plain state rather than pickles, and is
loaded with an explicit list of trusted types. `train()` is seeded and deterministic: the test suite trains
afresh and checks the shipped model gives exactly the same predictions on the whole held-out split.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise, repeat
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .dataset import LABELS, DedupeStats, Example, load_training_examples, split_examples
from .features import NO_LINKS, LinkFeatures, link_features
from .links import extract_links

if TYPE_CHECKING:
    from scipy import sparse

MAX_MODEL_CHARS = 2_000  # characters of a text the model reads (a 1 MB text costs the same as a long SMS)
DEFAULT_SEED = 20220815  # the Oktapus texts went out in the summer of 2022
DEFAULT_MODEL_PATH = Path(__file__).with_name("model.skops")
FORMAT_VERSION = 1
# The choice bench/select_sms_model.py made by cross-validation (docs/detection.md, "Texts").
DEFAULT_C = 10.0
DEFAULT_LINKS = True

_TOKEN = re.compile(r"\b\w\w+\b")
_DIGIT = re.compile(r"\d")
_SEP = "\x00"  # joins a batch's texts (verdicts replace control characters, so it is never in one)
_TOKEN_OR_SEP = re.compile(r"\b\w\w+\b|\x00")

# What skops may build when loading a model file: the plain containers and numpy/sklearn types our own
# `_state()` writes, nothing else. Checked against skops.io.get_untrusted_types() by the tests.
TRUSTED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "sklearn.linear_model._logistic.LogisticRegression",
)


# What read_plain() accepts in a model file's schema: (module, class, skops loader) of each node. These are
# the nodes our own _state() makes; a file with anything else is read by skops (and its trusted-type check).
_PLAIN_NODES = frozenset(
    {
        ("builtins", "str", "JsonNode"),
        ("builtins", "str", "TypeNode"),
        ("builtins", "list", "ListNode"),
        ("builtins", "dict", "DictNode"),
        ("numpy", "ndarray", "NdArrayNode"),
        ("sklearn.linear_model._logistic", "LogisticRegression", "ObjectNode"),
    }
)


class ModelFileError(ValueError):
    """A model file is missing, unreadable, or holds something other than a smishguard text model."""


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str  # "ham" | "spam" | "smishing"
    probabilities: dict[str, float]

    def __iter__(self):
        return iter((self.label, self.probabilities))


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(_DIGIT.sub("0", text[:MAX_MODEL_CHARS].lower()))


def _grams(text: str) -> list[str]:
    """Word unigrams and bigrams (scikit-learn's default token pattern on lower-cased, digit-folded text)."""
    tokens = _tokens(text)
    return tokens + list(map(_pair, tokens, tokens[1:]))


_pair = "{} {}".format


def _lookup_table(terms: Sequence[str]) -> dict[object, int]:
    """Term -> column; a bigram "a b" is keyed as the tuple ("a", "b"), which zip() makes without formatting."""
    table: dict[object, int] = {}
    for i, term in enumerate(terms):
        first, sep, second = term.partition(" ")
        table[(first, second) if sep else term] = i
    return table


class TextModel:
    """Vocabulary, idf weights and a fitted LogisticRegression; `predict` is vectorised over a batch."""

    def __init__(self, terms: Sequence[str], idf: np.ndarray, classifier, meta: dict | None = None) -> None:
        self._classifier = classifier
        self._classifier_file: Path | None = None  # set by read_plain: the real classifier is read on demand
        self.terms = list(terms)
        self.vocabulary = _lookup_table(self.terms)
        self._lookup = {**self.vocabulary, _SEP: len(self.terms) + 1}  # the batch separator has its own id
        self._pair_codes, self._pair_cols = _pair_tables(self.vocabulary, len(self.terms))
        self.idf = np.asarray(idf, dtype=np.float64)
        self.meta = dict(meta or {})
        self.classes: tuple[str, ...] = tuple(str(c) for c in classifier.classes_)
        if set(self.classes) != set(LABELS):
            raise ModelFileError(f"model classes {self.classes} are not {LABELS}")
        n_text = len(self.terms)
        coef = np.asarray(classifier.coef_, dtype=np.float64)
        # A model reads the link features or not (meta "links", chosen at training); the coefficients say which.
        self.uses_links = bool(self.meta.get("links", True))
        n_columns = n_text + (len(LinkFeatures.NAMES) if self.uses_links else 0)
        if coef.shape != (len(self.classes), n_columns):
            raise ModelFileError(f"model coefficients have shape {coef.shape}, not matching its vocabulary")
        self._w_text = np.ascontiguousarray(coef[:, :n_text].T)
        self._w_links = np.ascontiguousarray(coef[:, n_text:].T)
        self._bias = np.asarray(classifier.intercept_, dtype=np.float64)

    @property
    def classifier(self):
        """The fitted scikit-learn LogisticRegression (read from the model file on first use after read_plain)."""
        if self._classifier_file is not None:
            self._classifier = TextModel.load(self._classifier_file)._classifier
            self._classifier_file = None
        return self._classifier

    @classifier.setter
    def classifier(self, value) -> None:
        self._classifier = value
        self._classifier_file = None

    # --- features ---------------------------------------------------------------------------------------

    def text_matrix(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """TF-IDF rows (sub-linear tf, l2-normalised) for a batch of texts."""
        from scipy import sparse  # training and evaluation only: prediction goes through _text_scores

        # Unknown grams map to one extra column (index n_terms) that is dropped afterwards: this keeps the
        # per-text work inside C-level map() calls.
        get = self.vocabulary.get
        unknown = len(self.terms)
        indices: list[int] = []
        indptr = [0]
        extend = indices.extend
        for text in texts:
            tokens = _tokens(text)
            extend(map(get, tokens, repeat(unknown)))
            extend(map(get, pairwise(tokens), repeat(unknown)))
            indptr.append(len(indices))
        n = len(texts)
        ind = np.asarray(indices, dtype=np.int32)
        matrix = sparse.csr_matrix(
            (np.ones(len(ind), dtype=np.float64), ind, np.asarray(indptr, dtype=np.int64)),
            shape=(n, unknown + 1),
        )
        matrix.sum_duplicates()
        matrix = matrix[:, :unknown].tocsr()
        matrix.data = (np.log(matrix.data) + 1.0) * self.idf[matrix.indices]
        # Row norms by bincount: unlike np.add.reduceat it is right for rows with no known gram (empty texts).
        counts = np.diff(matrix.indptr)
        rows = np.repeat(np.arange(n), counts)
        norms = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=n))
        norms = np.where(counts > 0, norms, 1.0)
        matrix.data /= np.repeat(norms, counts)
        return matrix

    def _text_scores(self, texts: Sequence[str]) -> np.ndarray | None:
        """``text_matrix(texts) @ self._w_text``, the same numbers in the same order of additions, in numpy only.

        The batch is read as one string (texts joined by NUL, which cannot be in a token, and lower-cased and
        digit-folded in one call each), its grams looked up in two C-level passes over the whole batch, and
        the products summed per row with bincount in the order scipy's sparse product sums them (columns
        ascending within a row). None when a text holds a NUL itself: the caller then takes the sparse path.
        """
        n = len(texts)
        joined = _SEP.join([t[:MAX_MODEL_CHARS] for t in texts])
        if joined.count(_SEP) != n - 1:
            return None
        words = _TOKEN_OR_SEP.findall(_DIGIT.sub("0", joined.lower()))
        get = self._lookup.get
        unknown = len(self.terms)
        grams = np.fromiter(map(get, words, repeat(unknown)), dtype=np.int64, count=len(words))
        if self._pair_codes is not None:
            # A bigram is known only if both its words are (see _pair_tables): look the pairs of known words
            # up by number, in one sorted search.
            first, second = grams[:-1], grams[1:]
            codes = np.where((first < unknown) & (second < unknown), first * unknown + second, -1)
            at = np.minimum(np.searchsorted(self._pair_codes, codes), len(self._pair_codes) - 1)
            pairs = np.where(self._pair_codes[at] == codes, self._pair_cols[at], unknown)
        else:
            pairs = np.fromiter(map(get, pairwise(words), repeat(unknown)), np.int64, max(len(words) - 1, 0))
        row_of = np.cumsum(grams == unknown + 1)  # the row of each word: separators before it
        ids = np.concatenate((grams, pairs))
        rows = np.concatenate((row_of, row_of[:-1]))
        known = ids < unknown  # a pair across a separator, an unknown gram or the separator itself: dropped
        keys, counts = np.unique(rows[known] * unknown + ids[known], return_counts=True)
        rows, cols = np.divmod(keys, unknown)
        data = (np.log(counts.astype(np.float64)) + 1.0) * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=data**2, minlength=n))
        data /= norms[rows]  # rows without a known gram have no entries to divide
        weights = self._w_text[cols]
        scores = np.empty((n, weights.shape[1]), dtype=np.float64)
        for c in range(weights.shape[1]):
            scores[:, c] = np.bincount(rows, weights=data * weights[:, c], minlength=n)
        return scores

    @staticmethod
    def link_matrix(features: Sequence[LinkFeatures]) -> np.ndarray:
        matrix = np.zeros((len(features), len(LinkFeatures.NAMES)), dtype=np.float64)
        for row, f in enumerate(features):
            if f is not NO_LINKS:
                matrix[row] = f.as_vector()
        return matrix

    def design_matrix(self, texts: Sequence[str], features: Sequence[LinkFeatures]) -> sparse.csr_matrix:
        """The matrix the classifier sees: text columns, then link-feature columns (if the model reads them)."""
        from scipy import sparse

        if not self.uses_links:
            return self.text_matrix(texts)
        return sparse.hstack([self.text_matrix(texts), sparse.csr_matrix(self.link_matrix(features))]).tocsr()

    # --- prediction -------------------------------------------------------------------------------------

    def probabilities(self, texts: Sequence[str], features: Sequence[LinkFeatures] | None = None) -> np.ndarray:
        """An (n, 3) array of class probabilities in the order of `self.classes`."""
        texts = [t if isinstance(t, str) else "" for t in texts]
        if features is None and self.uses_links:
            features = [link_features(extract_links(t)) for t in texts]
        if not texts:
            return np.zeros((0, len(self.classes)))
        scores = self._text_scores(texts)
        if scores is None:
            scores = self.text_matrix(texts) @ self._w_text
        if self.uses_links:
            scores += self.link_matrix(features) @ self._w_links
        scores += self._bias
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def predict(self, texts: Sequence[str], features: Sequence[LinkFeatures] | None = None) -> list[Prediction]:
        """(label, probabilities) for each text, in order; fast on a batch."""
        probs = self.probabilities(texts, features)
        best = probs.argmax(axis=1)
        classes = self.classes
        return [
            Prediction(classes[b], {c: float(p) for c, p in zip(classes, row, strict=True)})
            for b, row in zip(best.tolist(), probs.tolist(), strict=True)
        ]

    # --- storage ----------------------------------------------------------------------------------------

    def _state(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "terms": list(self.terms),
            "idf": self.idf,
            "classifier": self.classifier,
            "meta": self.meta,
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        import skops.io as sio  # skops is only needed to read or write a model file

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        sio.dump(self._state(), path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TextModel:
        """Load a model file written by `save`, trusting only TRUSTED_TYPES (raises ModelFileError)."""
        import skops.io as sio

        path = Path(path)
        try:
            untrusted = set(sio.get_untrusted_types(file=path))
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise ModelFileError(f"cannot read model file {path}: {exc}") from exc
        unexpected = untrusted - set(TRUSTED_TYPES)
        if unexpected:
            raise ModelFileError(f"model file {path} holds types not on the trusted list: {sorted(unexpected)}")
        try:
            state = sio.load(path, trusted=sorted(untrusted))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
            raise ModelFileError(f"cannot load model file {path}: {exc}") from exc
        if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION or "classifier" not in state:
            raise ModelFileError(f"{path} is not a smishguard text model (format {FORMAT_VERSION})")
        return cls(state["terms"], state["idf"], state["classifier"], state.get("meta"))

    @classmethod
    def read_plain(cls, path: str | os.PathLike[str]) -> TextModel:
        """Load a model file written by `save`, reading its numbers without importing skops or scikit-learn.

        Importing skops (and with it scikit-learn) takes about 2 s, ten times what a whole ``scan --file`` of
        10,000 texts needs. A model file is a zip of one JSON schema and numpy arrays; when every node of the
        schema is one our own `_state()` writes (plain containers, JSON values, arrays, the classifier), the
        terms, idf and the classifier's classes, coefficients and intercepts are read from it directly
        (``np.load`` with ``allow_pickle=False``: no object is built from the file). Anything else, and any
        error, goes to `load` and so to skops and its trusted-type check. The scikit-learn classifier itself
        is read (by skops) only if something asks for ``model.classifier``.
        """
        path = Path(path)
        try:
            with zipfile.ZipFile(path) as archive:
                schema = json.loads(archive.read("schema.json"), object_hook=_plain_node)
                state = schema["content"]
                if _value(state["format"], archive) != FORMAT_VERSION:
                    return cls.load(path)
                fitted = state["classifier"]["content"]["content"]
                parameters = _FittedParameters(
                    _value(fitted["classes_"], archive),
                    _value(fitted["coef_"], archive),
                    _value(fitted["intercept_"], archive),
                )
                terms = _value(state["terms"], archive)
                idf = _value(state["idf"], archive)
                meta = _value(state["meta"], archive) if "meta" in state else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile, _NotPlain):
            return cls.load(path)
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            return cls.load(path)
        model = cls(terms, idf, parameters, meta)
        model._classifier_file = path
        return model


def _pair_tables(vocabulary: dict[object, int], unknown: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Bigram columns keyed by the numbers of their two words: (sorted codes, column of each code).

    fit_vocabulary keeps a gram seen in two texts or more, so both words of a kept bigram are kept too; a
    vocabulary where that does not hold (not one of ours) gets (None, None) and its bigrams are looked up
    by name."""
    codes: list[int] = []
    cols: list[int] = []
    for key, col in vocabulary.items():
        if isinstance(key, tuple):
            first, second = vocabulary.get(key[0]), vocabulary.get(key[1])
            if first is None or second is None:
                return None, None
            codes.append(first * unknown + second)
            cols.append(col)
    if not codes:
        return None, None
    order = np.argsort(np.asarray(codes, dtype=np.int64), kind="stable")
    return np.asarray(codes, dtype=np.int64)[order], np.asarray(cols, dtype=np.int64)[order]


class _NotPlain(Exception):
    """A schema node read_plain does not read itself."""


class _FittedParameters:
    """The fitted parameters of a LogisticRegression, as read_plain finds them in a model file."""

    __slots__ = ("classes_", "coef_", "intercept_")

    def __init__(self, classes: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> None:
        self.classes_ = classes
        self.coef_ = coef
        self.intercept_ = intercept


def _plain_node(node: dict) -> dict:
    """json.loads hook: every schema node (a dict with a class) must be one read_plain knows."""
    if "__class__" in node and (node.get("__module__"), node["__class__"], node.get("__loader__")) not in _PLAIN_NODES:
        raise _NotPlain
    return node


def _value(node: dict, archive: zipfile.ZipFile) -> object:
    """The value of one plain schema node (JSON value, list, dict with str keys, numpy array)."""
    loader = node.get("__loader__")
    if loader == "JsonNode" and node.get("is_json") is True:
        return json.loads(node["content"])
    if loader == "ListNode":
        items = node["content"]
        if all(i.get("__loader__") == "JsonNode" and i.get("is_json") is True for i in items):
            return json.loads("[" + ",".join(i["content"] for i in items) + "]")  # one parse for 10,000 terms
        return [_value(i, archive) for i in items]
    if loader == "DictNode":
        key_types = node["key_types"]["content"]
        if not all(k.get("__loader__") == "TypeNode" and k.get("__class__") == "str" for k in key_types):
            raise _NotPlain
        return {k: _value(v, archive) for k, v in node["content"].items()}
    if loader == "NdArrayNode" and node.get("type") == "numpy":
        with archive.open(node["file"]) as f:
            return np.load(f, allow_pickle=False)
    raise _NotPlain


@functools.cache
def load_default_model() -> TextModel:
    """The model shipped in the package (loaded once)."""
    return TextModel.read_plain(DEFAULT_MODEL_PATH)


# --- training -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrainingReport:
    seed: int
    dedupe: DedupeStats
    n_train: int
    n_test: int
    n_terms: int
    heldout: dict  # evaluation.evaluate() on the held-out split
    smishtank: dict | None  # recall on SmishTank (all smishing), when that file is present

    def to_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "dedupe": self.dedupe.to_dict(),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "n_terms": self.n_terms,
            "heldout": self.heldout,
            "smishtank": self.smishtank,
        }


def fit_vocabulary(texts: Iterable[str], *, min_df: int = 2) -> tuple[list[str], np.ndarray]:
    """Terms seen in at least `min_df` texts (sorted, so the order is reproducible) and their smooth idf."""
    df: Counter[str] = Counter()
    n = 0
    for text in texts:
        n += 1
        df.update(set(_grams(text)))
    terms = sorted(term for term, count in df.items() if count >= min_df)
    idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in terms], dtype=np.float64)
    return terms, idf


def fit(examples: Sequence[Example], *, seed: int, c: float = DEFAULT_C, links: bool = DEFAULT_LINKS) -> TextModel:
    """Fit the vocabulary, idf and classifier on `examples`; `links` chooses whether the link features are read."""
    from sklearn.linear_model import LogisticRegression  # sklearn is slow to import: only when training

    texts = [e.text for e in examples]
    labels = [e.label for e in examples]
    terms, idf = fit_vocabulary(texts)
    classifier = LogisticRegression(C=c, max_iter=5000, class_weight="balanced", random_state=seed)
    # A stand-in with the right shapes lets TextModel build the design matrix before the real fit.
    scratch = TextModel.__new__(TextModel)
    scratch.terms = terms
    scratch.vocabulary = _lookup_table(terms)
    scratch.idf = idf
    scratch.uses_links = links
    features = [link_features(extract_links(t)) for t in texts] if links else []
    classifier.fit(scratch.design_matrix(texts, features), labels)
    meta = {"seed": int(seed), "c": float(c), "n_train": len(examples), "links": bool(links)}
    return TextModel(terms, idf, classifier, meta)


def train(
    data_dir: str | os.PathLike[str], seed: int = DEFAULT_SEED, *, test_size: float = 0.2
) -> tuple[TextModel, TrainingReport]:
    """Load and de-duplicate the CC BY 4.0 sets, split, fit on the training part, evaluate on the rest."""
    from .dataset import read_smishtank, resolve_sms_dir
    from .evaluation import evaluate, smishing_recall

    examples, stats = load_training_examples(data_dir)
    train_set, test_set = split_examples(examples, seed=seed, test_size=test_size)
    model = fit(train_set, seed=seed)
    heldout = evaluate([e.label for e in test_set], [p.label for p in model.predict([e.text for e in test_set])])
    smishtank = None
    sms_dir = resolve_sms_dir(data_dir)
    if (sms_dir / "smishtank.csv").is_file():
        texts = read_smishtank(sms_dir)
        smishtank = smishing_recall([p.label for p in model.predict(texts)])
    report = TrainingReport(
        seed=seed,
        dedupe=stats,
        n_train=len(train_set),
        n_test=len(test_set),
        n_terms=len(model.terms),
        heldout=heldout,
        smishtank=smishtank,
    )
    return model, report
