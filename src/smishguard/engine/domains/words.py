"""Words, for reading a name the way a person does: which brand names are ordinary English words, and how a glued
run of letters (``myacmeuk``) splits into words.

- **Ordinary words** (``data/ordinary_words.txt``, 6,577 words): the words of Webster's Second International
  (1934, public domain; the ``web2`` list of the ``english-words`` package) that are among the 10,000 most
  frequent words of the web (below).  A brand whose name is an ordinary word (orange, bell, mercury) is held to
  more before a name that carries it is called a lookalike: ``orange-county-news.com`` is not an attack.  The
  file is derived (:func:`derive_ordinary_words`, checked by a test) so that a run needs no 0.2 s dictionary load.
- **Splitting a glued run**: the most probable sequence of words (Viterbi over unigram probabilities, Peter
  Norvig's method in *Beautiful Data*, 2009), with the word counts that the ``wordsegment`` package ships
  (Apache-2.0; counted from the Google Web Trillion Word Corpus by Norvig).  Only the most frequent
  :data:`TOP_WORDS` words are read.  The matcher adds its own words (brand tokens, keywords) at a fixed
  probability, so that ``myacme`` splits as ``my acme`` while ``citizen`` stays one word rather than
  ``citi zen``: a brand counts as a whole word only where the split a reader would make says so.

Both lists are read once per process, the first time a name needs them (most names never do).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path

TOP_WORDS = 60_000  # the most frequent words of wordsegment's 333,333 (the rest are mostly misspellings)
MAX_WORD = 24  # longer runs are not one word
_TOTAL = 1_024_908_267_229.0  # the corpus size wordsegment divides by
_LOG_TOTAL = math.log10(_TOTAL)
ORDINARY_RANK = 10_000
_READ = 1 << 20  # bytes of the counts file read at a time
ADDED_WORD_LOG_P = -6.0  # a token or keyword the matcher adds: as likely as a fairly common word


ORDINARY_WORDS = Path(__file__).with_name("data") / "ordinary_words.txt"


@cache
def _ordinary() -> frozenset[str]:
    lines = ORDINARY_WORDS.read_text("utf-8").splitlines()
    return frozenset(w for w in lines if w and not w.startswith("#"))


def is_ordinary_word(word: str) -> bool:
    """Whether ``word`` (lower case) is an ordinary English word: in Webster's dictionary and among the
    :data:`ORDINARY_RANK` most frequent words of the web (acme and kraken are in the dictionary, but rare)."""
    return word in _ordinary()


def _unigram_path() -> Path:
    spec = importlib.util.find_spec("wordsegment")
    if spec is None or not spec.origin:  # pragma: no cover - a declared dependency
        raise RuntimeError("the wordsegment package is not installed")
    return Path(spec.origin).with_name("unigrams.txt")


@cache
def _unigrams() -> dict[str, str]:
    """word -> its count (as the file writes it), for the :data:`TOP_WORDS` most frequent words, in order (the file
    is sorted by count).  Only the start of the file is read (its first 60,000 lines, of about 333,000, are a fifth
    of its 5 MB), a megabyte at a time until it holds the words wanted; a count becomes a probability when
    looked up."""
    want = 2 * TOP_WORDS
    with _unigram_path().open("rb") as f:
        data = f.read(_READ)
        while True:
            more = f.read(_READ)
            # up to the last line break read (a whole UTF-8 character, a whole field); all of it at the end
            text = (data if not more else data[: data.rfind(b"\n") + 1]).decode("utf-8")
            fields = text.split(None, want)
            if len(fields) > want or not more:  # a field after the last one wanted: every one wanted is whole
                break
            data += more
    fields = fields[:want]
    return dict(zip(fields[0::2], fields[1::2], strict=True))


def rank(word: str) -> int:
    """The word's rank among the frequent words of the web (0 is "the"); very large when not among them."""
    return _ranks().get(word, 1 << 30)


@cache
def _ranks() -> dict[str, int]:
    return {w: i for i, w in enumerate(_unigrams())}


def is_known_word(word: str) -> bool:
    """Whether ``word`` is among the frequent words of the web (a name, an abbreviation or a word)."""
    return word in _unigrams()


def derive_ordinary_words() -> list[str]:
    """The bundled list (data/ordinary_words.txt) as it is made: the words of Webster's Second International (the
    ``english-words`` package's web2 list, public domain) among the :data:`ORDINARY_RANK` most frequent words of
    ``wordsegment``'s counts, in order of frequency.  ``english-words`` is needed only here (a test checks the
    bundled file against it); ``python -m smishguard.engine.domains.words`` writes the file afresh."""
    from english_words import get_english_words_set  # development only: a test extra, not a dependency

    dictionary = get_english_words_set(["web2"], lower=True, alpha=True)
    top = list(_unigrams())[:ORDINARY_RANK]
    return [w for w in top if w in dictionary]


class Splitter:
    """Splits a run of lower-case letters into its most probable words; ``added`` words count as common ones."""

    def __init__(self, added: Iterable[str] = ()):
        self._added = frozenset(added)
        self._memo: dict[str, tuple[str, ...]] = {}
        self._log_ps: dict[str, float] = {}  # log probability of each piece seen (a run's pieces repeat across runs)

    def _log_p(self, word: str, unigrams: dict[str, str]) -> float:
        count = unigrams.get(word)
        known = None if count is None else math.log10(int(count)) - _LOG_TOTAL
        if word in self._added:
            return ADDED_WORD_LOG_P if known is None else max(known, ADDED_WORD_LOG_P)
        if known is not None:
            return known
        # Norvig's estimate for a word never seen: less likely the longer it is.
        return 1.0 - _LOG_TOTAL - len(word)

    def split(self, text: str) -> tuple[str, ...]:
        """The most probable words of ``text`` (letters only), in order."""
        found = self._memo.get(text)
        if found is not None:
            return found
        unigrams = _unigrams()
        log_p, cache = self._log_p, self._log_ps
        n = len(text)
        best = [0.0] + [-math.inf] * n
        back = [0] * (n + 1)
        for end in range(1, n + 1):
            top, at = -math.inf, 0
            for start in range(max(0, end - MAX_WORD), end):
                word = text[start:end]
                p = cache.get(word)
                if p is None:
                    p = cache[word] = log_p(word, unigrams)
                score = best[start] + p
                if score > top:
                    top, at = score, start
            best[end], back[end] = top, at
        words: list[str] = []
        end = n
        while end > 0:
            start = back[end]
            words.append(text[start:end])
            end = start
        result = tuple(reversed(words))
        if len(self._memo) > 65536:
            self._memo.clear()
        if len(self._log_ps) > 1 << 20:
            self._log_ps.clear()
        self._memo[text] = result
        return result


if __name__ == "__main__":
    ORDINARY_WORDS.write_text(
        "# Ordinary English words (smishguard.engine.domains.words.derive_ordinary_words): Webster's Second\n"
        "# International (public domain, via the english-words package) among the 10,000 most frequent words of\n"
        "# the wordsegment package's counts (Apache-2.0), by frequency.  Regenerate, do not edit.\n"
        + "\n".join(derive_ordinary_words())
        + "\n",
        "utf-8",
    )
