"""Passwords built from common French (and English) words and patterns are refused.

Django's CommonPasswordValidator knows 20,000 English passwords: `motdepasse123` passes it. This
validator estimates, as zxcvbn does, how many guesses an attacker who tries words by frequency
would need: the password is cut into pieces (a word of a list costs its rank, a keyboard row or a
counting sequence a few dozen guesses, a year a hundred, anything else every character of its
class), the product over the cheapest cut times the number of orders of its pieces. Under
`min_guesses` (10^10 by default, zxcvbn's "very unguessable") it is refused.

Lists, loaded once (portail/accounts/data/README.md says where they come from): 26,500 French
words ranked by frequency, 12,300 first and last names, Django's 20,000 common passwords ranked.
A long phrase of unrelated words passes: each word multiplies the count.
"""

import gzip
import math
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import django.contrib.auth
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from portail.accounts.models import User

DATA_DIR = Path(__file__).resolve().parent / "data"
NAME_RANK = 10_000  # the names are listed alphabetically, not by frequency
KEYBOARD_ROWS = (
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "1a2z3e4r5t6y",
    "1q2w3e4r5t6y",
)
SEPARATORS = frozenset(" -_.")
LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
MAX_WORD = 24  # longer pieces are never words of the lists
MAX_BRUTE = 12  # a longer run of characters outside the lists is strong by itself


def _fold(text: str) -> str:
    """Lower case, accents dropped (é → e): how the lists are written."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _read_list(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [line.strip() for line in lines if line.strip()]


@cache
def ranked_words() -> dict[str, int]:
    """Every word of the lists and its rank (1 = most common), the lowest of its lists."""
    ranks: dict[str, int] = {}

    def add(words: list[str], rank_of: int | None = None) -> None:
        for index, listed in enumerate(words, start=1):
            word = _fold(listed)
            rank = rank_of or index
            if word and rank < ranks.get(word, math.inf):
                ranks[word] = rank

    add(_read_list(DATA_DIR / "fr_common_words.txt.gz"))
    add(_read_list(Path(django.contrib.auth.__file__).parent / "common-passwords.txt.gz"))
    add(_read_list(DATA_DIR / "fr_names.txt.gz"), NAME_RANK)
    return ranks


@dataclass(frozen=True)
class Estimate:
    guesses: float
    pieces: tuple[str, ...]  # the common pieces found (words, sequences, years)


def _sequence_cost(piece: str) -> int | None:
    if len(piece) < 3:
        return None
    if len(set(piece)) == 1:  # aaaa, 1111
        return 10 * len(piece)
    for row in KEYBOARD_ROWS:
        if piece in row or piece in row[::-1]:
            return 4 * len(piece)
    return None


def _piece_cost(original: str, folded: str) -> tuple[float, bool]:
    """Guesses for one piece, and whether it is a common one (to name it in the message)."""
    if all(c in SEPARATORS for c in original):
        return 2.0 ** len(original), False
    sequence = _sequence_cost(folded)
    if sequence is not None:
        return float(sequence), True
    if (
        folded.isdigit()
        and len(folded) in (2, 4)
        and (len(folded) == 2 or 1900 <= int(folded) < 2100)
    ):
        return 100.0, True  # a year: 87, 2024
    variants = 1.0
    if original != original.lower():
        # Capitals anywhere but the first letter or everywhere are a guess of their own.
        capitalised = original[0].isupper() and original[1:] == original[1:].lower()
        variants = 2.0 if capitalised or original.isupper() else 10.0
    for candidate, factor in ((folded, 1.0), (folded.translate(LEET), 2.0)):
        rank = ranked_words().get(candidate)
        if rank is not None:
            return rank * variants * factor, True
    return math.inf, False


def _brute_force(piece: str) -> float:
    size = 10 if piece.isdigit() else 26 if piece.isalpha() and piece.isascii() else 95
    return float(size) ** len(piece)


def _repeated_unit(password: str) -> str:
    """The shortest string whose repetition is `password` (itself when there is none)."""
    n = len(password)
    for size in range(1, n // 2 + 1):
        if n % size == 0 and password[:size] * (n // size) == password:
            return password[:size]
    return password


def estimate(password: str) -> Estimate:
    """The cheapest cut of `password` into pieces (dynamic programming over cut positions and
    numbers of pieces, in log10; states already above 10^20 are dropped)."""
    unit = _repeated_unit(password)
    if unit != password:  # "soleilsoleilsoleil": the unit, and how many times
        once = estimate(unit)
        return Estimate(once.guesses * len(password) // len(unit), once.pieces)
    folded = _fold(password)
    if len(folded) != len(password):  # a character that unfolds into two: no alignment, no list
        return Estimate(_brute_force(password), ())
    n = len(password)
    ceiling = 20.0
    # best[i]: {pieces: (log10 guesses, common pieces)} for the first i characters.
    best: list[dict[int, tuple[float, tuple[str, ...]]]] = [{} for _ in range(n + 1)]
    best[0][0] = (0.0, ())
    run_start = 0  # where the run of one repeated character ending here starts
    for end in range(1, n + 1):
        if end > 1 and password[end - 1] != password[end - 2]:
            run_start = end - 1
        # Pieces of at most MAX_WORD characters, and the whole run of a repeated character.
        starts = range(max(0, end - MAX_WORD), end)
        for start in (run_start, *starts) if run_start < end - MAX_WORD else starts:
            if not best[start]:
                continue
            cost, common = _piece_cost(password[start:end], folded[start:end])
            if not common and not math.isfinite(cost) and end - start <= MAX_BRUTE:
                cost = _brute_force(password[start:end])
            if not math.isfinite(cost):
                continue
            log_cost = math.log10(max(cost, 1.0))
            named = (folded[start:end],) if common else ()
            for count, (log_guesses, pieces) in best[start].items():
                total = log_guesses + log_cost
                if total > ceiling:
                    continue
                current = best[end].get(count + 1)
                if current is None or total < current[0]:
                    best[end][count + 1] = (total, pieces + named)
    if not best[n]:
        return Estimate(10.0**ceiling, ())
    # zxcvbn's count of orders: the attacker does not know how many pieces, nor their order.
    log_guesses, pieces = min(
        (log + math.log10(math.factorial(count)), pieces)
        for count, (log, pieces) in best[n].items()
    )
    return Estimate(10.0**log_guesses, pieces)


class FrenchCommonPasswordValidator:
    """AUTH_PASSWORD_VALIDATORS entry: refuses a password an attacker's word lists find quickly."""

    def __init__(self, min_guesses: float = 1e10) -> None:
        self.min_guesses = min_guesses

    def validate(self, password: str, user: "User | None" = None) -> None:
        found = estimate(password)
        if found.guesses >= self.min_guesses:
            return
        named = ", ".join(f"« {piece} »" for piece in dict.fromkeys(found.pieces) if len(piece) > 2)
        because = f" ({named})" if named else ""
        raise ValidationError(
            "Ce mot de passe est fait de mots ou de suites très courants"
            f"{because} : les logiciels qui devinent les mots de passe les essaient en premier. "
            "Une phrase de quatre ou cinq mots sans lien entre eux est plus sûre, et facile à "
            "retenir.",
            code="password_too_common",
        )

    def get_help_text(self) -> str:
        return (
            "Votre mot de passe ne doit pas être fait de mots ou de suites courants (motdepasse, "
            "azerty, 123456) : une phrase de plusieurs mots sans lien entre eux convient."
        )
