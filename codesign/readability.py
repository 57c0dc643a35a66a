"""Flesch reading ease, and the longest sentence, of plain English text (pure, no dependencies).

NHS content guidance asks for a reading age of 9 to 11: short sentences (under 15 to 20 words) and
everyday words. Flesch reading ease is 206.835 - 1.015 x (words per sentence) - 84.6 x (syllables
per word); 80 and above reads at about age 11 or younger. Syllables are counted by a rule of thumb
(groups of vowels, less a silent final "e"), which is within a syllable or so on most English words:
good enough to hold the seed outcomes to a reading level, not a linguistic measure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_SPLIT_VOWELS = re.compile(r"[^aeiouy]i[aou](?!n$|us$|nal|ns$|nally|l)|eo(?!p)|ea$|eing|ua|[^q]uo|ie[rt]$")


@dataclass(frozen=True)
class Readability:
    sentences: int
    words: int
    syllables: int
    longest_sentence: int  # in words

    @property
    def flesch(self) -> float:
        if not self.words:
            return 0.0
        return 206.835 - 1.015 * self.words / max(self.sentences, 1) - 84.6 * self.syllables / self.words


def syllables(word: str) -> int:
    """Syllables in one word, by rule of thumb. A number or an abbreviation in capitals (HbA1c,
    DKA, GP) is read letter by letter or as a number, so it counts as one syllable per letter
    group, as a reader says it ("G-P"); a plain word counts its vowel groups."""
    if word.isdigit():
        return max(1, len(word))
    if sum(1 for c in word if c.isupper()) >= 2:
        return max(1, sum(1 for c in word if c.isalnum()))
    w = word.lower().replace("’", "'").split("'")[0]
    count = len(_VOWEL_GROUPS.findall(w))
    count += len(_SPLIT_VOWELS.findall(w))  # "diabetes", "video", "idea": two vowels, two syllables
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1  # a silent final e: "care", "time"
    elif w.endswith("ed") and len(w) > 3 and w[-3] not in "td" and count > 1:
        count -= 1  # "helped", "noticed": no extra syllable
    elif w.endswith("es") and len(w) > 3 and w[-3] not in "sxzhgc" and count > 1:
        count -= 1  # "takes", "homes" (but "places", "boxes")
    elif w.endswith("ely") and count > 2:
        count -= 1  # "lonely", "safely"
    return max(1, count)


def sentences_of(text: str) -> list[str]:
    return [s for s in (part.strip() for part in _SENTENCE_END.split(text.strip())) if s]


def measure(text: str) -> Readability:
    sentences = sentences_of(text)
    counts = [_WORD.findall(s) for s in sentences]
    words = [w for ws in counts for w in ws]
    return Readability(
        sentences=len(sentences),
        words=len(words),
        syllables=sum(syllables(w) for w in words),
        longest_sentence=max((len(ws) for ws in counts), default=0),
    )
