"""Text helpers shared by the text-aware rules and by cleaning.

Pure pandas and the standard library: no Great Expectations, so cleaning and the
rules stay fast to import and can be reused by any engine that can hand over a
pandas Series (the Spark engine collects the text columns it needs).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import pandas as pd

from ..core.errors import DataError
from ..data._conversations import is_conversation_column, turn_contents

PII_PATTERNS: dict[str, re.Pattern] = {
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    # digit groups separated by space, dot or dash, optional +country and (area) code;
    # kept only when it has 7-15 digits (see ``find_pii``), so prices, times, order
    # numbers like SKY-19992 and "1.5 to 2 metres" are not phone numbers.
    "phone": re.compile(r"(?<![\w+-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}"
                        r"(?:[ .-]\d{2,4}){1,4}(?![\w-])"),
    # 13-19 digits, optionally grouped; kept only when the Luhn checksum holds
    "card": re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])"),
}
PII_KINDS = tuple(PII_PATTERNS)
PII_MASKS = {"email": "[EMAIL]", "phone": "[PHONE]", "card": "[CARD]"}

_WS_RUN = re.compile(r"[^\S\n]{2,}|\t")
_PUNCT = re.compile(r"[^\w\s]")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_pii(text: str, kinds: Sequence[str] = PII_KINDS) -> list[tuple[str, str]]:
    """Return ``(kind, matched text)`` for every PII match in ``text``.

    >>> find_pii("mail jane@example.com or call +1 555 0100")
    [('email', 'jane@example.com'), ('phone', '+1 555 0100')]
    """
    found: list[tuple[str, str]] = []
    for kind in kinds:
        for m in PII_PATTERNS[kind].finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if kind == "phone" and not 7 <= len(digits) <= 15:
                continue
            if kind == "card" and not _luhn(digits):
                continue
            found.append((kind, m.group()))
    return found


def mask_pii(text: str, kinds: Sequence[str] = PII_KINDS) -> str:
    """Replace every PII match with a placeholder such as ``[EMAIL]``."""
    for kind, match in find_pii(text, kinds):
        text = text.replace(match, PII_MASKS[kind])
    return text


def tidy_text(text: str, *, form: str = "NFKC") -> str:
    """Unicode-normalise, strip, and collapse runs of spaces/tabs (newlines are kept)."""
    text = unicodedata.normalize(form, text)
    lines = [" ".join(line.split()) for line in text.strip().split("\n")]
    return "\n".join(lines)


def has_stray_whitespace(text: str, *, internal: bool = True) -> bool:
    """Leading/trailing whitespace, or (``internal``) a run of 2+ spaces or a tab inside."""
    if text != text.strip():
        return True
    return bool(internal and _WS_RUN.search(text))


def normalize_for_matching(text: str) -> str:
    """Case-, unicode-, punctuation- and whitespace-insensitive form of ``text``.

    >>> normalize_for_matching("  Where's MY order?? ")
    'where s my order'
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_PUNCT.sub(" ", text).split())


def word_count(text: str) -> int:
    return len(text.split())


def _osa_within(a: str, b: str, k: int) -> bool:
    """Optimal-string-alignment distance between ``a`` and ``b`` is at most ``k``."""
    if abs(len(a) - len(b)) > k:
        return False
    if a == b:
        return True
    la, lb = len(a), len(b)
    inf = k + 1
    prev2: list[int] | None = None
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [inf] * (lb + 1)
        cur[0] = i
        lo, hi = max(1, i - k), min(lb, i + k)
        for j in range(lo, hi + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if (i > 1 and j > 1 and prev2 is not None and a[i - 1] == b[j - 2]
                    and a[i - 2] == b[j - 1]):
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        if min(cur[lo - 1:hi + 1]) > k:
            return False
        prev2, prev = prev, cur
    return prev[lb] <= k


MAX_BUCKET = 500


def typo_duplicate_of(texts: Sequence[str | None], *, max_edits: int = 2) -> dict[int, int]:
    """Map each typo duplicate's row position to the first row it duplicates.

    This is the data rule's "near duplicate" (a typo apart), not the split's leakage
    check, which measures Jaccard similarity of character shingles
    (``workbench.splits.find_duplicates``). Two texts are typo duplicates when their :func:`normalize_for_matching` forms are
    equal, or (``max_edits > 0``) differ by at most ``max_edits`` character edits
    (insert, delete, substitute, swap) confined to one word: a typo, a dropped
    letter, a changed case or punctuation mark. Rows of ``None`` are ignored. The
    first row of each group is kept and not listed.
    """
    first_of: dict[str, int] = {}
    dup: dict[int, int] = {}
    reps: list[tuple[int, str]] = []
    for i, t in enumerate(texts):
        if t is None:
            continue
        n = normalize_for_matching(t)
        if n in first_of:
            dup[i] = first_of[n]
        else:
            first_of[n] = i
            reps.append((i, n))
    if max_edits <= 0 or len(reps) < 2:
        return dup
    buckets: dict[tuple, list[int]] = defaultdict(list)
    for r, (_, n) in enumerate(reps):
        words = n.split()
        if len(words) < 3:  # too short to block on: exact matches only
            continue
        for k in range(len(words)):
            buckets[(k, *words[:k], "\x00", *words[k + 1:])].append(r)
    parent = list(range(len(reps)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for members in buckets.values():
        if len(members) < 2:
            continue
        members = members[:MAX_BUCKET]
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1:]:
                if find(a) != find(b) and _osa_within(reps[a][1], reps[b][1], max_edits):
                    ra, rb = find(a), find(b)
                    parent[max(ra, rb)] = min(ra, rb)
    pos = {idx: r for r, (idx, _) in enumerate(reps)}
    for r, (i, _) in enumerate(reps):
        root = find(r)
        if root != r:
            dup[i] = reps[root][0]
    for i, j in dup.items():  # exact copies of any member point at the group's first row
        if i not in pos:
            dup[i] = reps[find(pos[j])][0]
    return dict(sorted(dup.items()))


def column_parts(series: pd.Series, turns: Sequence[str] | None = None, *,
                 require_conversations: bool = True) -> list[list[str] | None]:
    """The texts of each value, ``None`` where it is missing: the one place the text
    rules and cleaning read a column.

    A value of text gives itself; a conversation gives the content of its turns, one
    item per turn: of the roles in ``turns``, or of every turn when ``turns`` is None
    (a conversation with no such turn gives ``None``, as if missing). ``turns`` on a
    column of text is an error (unless ``require_conversations`` is False: then it is
    ignored).
    """
    if is_conversation_column(series):
        chosen = None if turns is None else list(turns)
        parts = [None if _isna(v) else turn_contents(v, chosen) for v in series]
        return [p if p and any(p) else None for p in parts]
    if turns is not None and require_conversations:
        raise DataError(f"turns: column '{series.name}' holds text, not conversations; "
                        "'turns' chooses the roles read from a column of messages "
                        "(lists of {role, content} turns)")
    return [None if _isna(v) else [str(v)] for v in series]


def column_texts(series: pd.Series, turns: Sequence[str] | None = None, *,
                 require_conversations: bool = True) -> list[str | None]:
    """One text per value (:func:`column_parts`, the turns of a conversation joined by
    newlines), ``None`` where it is missing."""
    return [None if p is None else "\n".join(p)
            for p in column_parts(series, turns, require_conversations=require_conversations)]


def joined_text(frame: pd.DataFrame, columns: Sequence[str],
                turns: Sequence[str] | None = None) -> list[str | None]:
    """One text per row: ``columns`` joined by a newline; ``None`` if all are null.

    Columns of conversations are read through :func:`column_texts` (``turns`` chooses
    their roles, and needs at least one such column).
    """
    cols = list(columns)
    if turns is not None and not any(is_conversation_column(frame[c]) for c in cols):
        column_texts(frame[cols[0]], turns)  # raises: no column of conversations
    per_col = [column_texts(frame[c], turns, require_conversations=False) for c in cols]
    out: list[str | None] = []
    for row in zip(*per_col):
        vals = [v for v in row if v is not None]
        out.append("\n".join(vals) if vals else None)
    return out


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
