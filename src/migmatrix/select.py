"""Choose cells from a plan: by a `-k`-style expression over cell ids, by python, by features.

The expression language is pytest's `-k`: words combined with `and`, `or`, `not`
and parentheses. A word matches a cell when it occurs in the cell id, ignoring
case (`ssot`, `unit/py3.12`, `partial[engine]`); a word with `*` or `?` is a glob
searched in the id (`reproduction/*/staging`). Words may contain any character
except blanks and parentheses, so ids paste in as they are.

Feature filters name features a cell must have; `!name` names one it must not have.
An empty selection is a mistake on the command line, so it is an error that shows
some ids that do exist.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence

from migmatrix.errors import UsageError
from migmatrix.match import glob_regex, is_glob
from migmatrix.model import Cell

Predicate = Callable[[str], bool]

_KEYWORDS = ("and", "or", "not")


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # "word", "and", "or", "not", "(", ")", "end"
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for m in re.finditer(r"\s*(?:(\()|(\))|([^\s()]+))", text):
        if m.group(1):
            tokens.append(_Token("(", "(", m.start(1)))
        elif m.group(2):
            tokens.append(_Token(")", ")", m.start(2)))
        elif m.group(3):
            word = m.group(3)
            kind = word if word in _KEYWORDS else "word"
            tokens.append(_Token(kind, word, m.start(3)))
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, token: _Token, wanted: str) -> UsageError:
        got = f"{token.text!r}" if token.kind != "end" else "the end of the expression"
        msg = (
            f"invalid cell selection at column {token.pos + 1}: expected {wanted}, got {got}\n"
            f"  {self.text}\n  {' ' * token.pos}^\n"
            "use words (parts of cell ids, `*` and `?` allowed) joined by and / or / not "
            "and parentheses, e.g. 'reproduction and not ssot'"
        )
        return UsageError(msg)

    def parse(self) -> Predicate:
        if self.peek().kind == "end":
            msg = "the cell selection is empty; give words such as 'reproduction and ssot'"
            raise UsageError(msg)
        pred = self.or_expr()
        token = self.peek()
        if token.kind != "end":
            raise self.error(token, "'and', 'or' or the end")
        return pred

    def or_expr(self) -> Predicate:
        return self.chain(self.and_expr, "or", any)

    def and_expr(self) -> Predicate:
        return self.chain(self.not_expr, "and", all)

    def chain(
        self,
        operand: Callable[[], Predicate],
        operator: str,
        combine: Callable[[Iterable[bool]], bool],
    ) -> Predicate:
        """`operand (operator operand)*`: a lone operand as it is, several joined by `combine`."""
        parts = [operand()]
        while self.peek().kind == operator:
            self.take()
            parts.append(operand())
        if len(parts) == 1:
            return parts[0]
        return lambda cid: combine(p(cid) for p in parts)

    def not_expr(self) -> Predicate:
        token = self.take()
        if token.kind == "not":
            inner = self.not_expr()
            return lambda cid: not inner(cid)
        if token.kind == "(":
            inner = self.or_expr()
            closing = self.take()
            if closing.kind != ")":
                raise self.error(closing, "')'")
            return inner
        if token.kind == "word":
            return _word(token.text)
        raise self.error(token, "a word, 'not' or '('")


def _word(word: str) -> Predicate:
    lowered = word.lower()
    if is_glob(lowered):
        pattern = glob_regex(lowered, anchored=False)
        return lambda cid: pattern.search(cid.lower()) is not None
    return lambda cid: lowered in cid.lower()


def compile_expression(expression: str) -> Predicate:
    """A predicate over cell ids, or UsageError naming the column of the mistake."""
    return _Parser(expression).parse()


def select_cells(
    cells: Sequence[Cell],
    *,
    expression: str | None = None,
    python: Sequence[str] | None = None,
    features: Sequence[str] | None = None,
) -> tuple[Cell, ...]:
    """The cells passing every given filter, in their input order; UsageError if none do."""
    chosen = list(cells)
    described = []
    if python:
        wanted = {v.removeprefix("py") for v in python}
        known = sorted({c.python for c in cells})
        unknown = sorted(wanted - set(known))
        if unknown:
            msg = (
                f"python {', '.join(unknown)} is not in the matrix; "
                f"choose from {', '.join(known) or 'nothing'}"
            )
            raise UsageError(msg)
        chosen = [c for c in chosen if c.python in wanted]
        described.append(f"python {', '.join(sorted(wanted))}")
    if features:
        need = {f for f in features if not f.startswith("!")}
        avoid = {f[1:] for f in features if f.startswith("!")}
        chosen = [c for c in chosen if need <= c.features and not avoid & c.features]
        described.append(f"features {', '.join(features)}")
    if expression is not None:
        predicate = compile_expression(expression)
        chosen = [c for c in chosen if predicate(c.id)]
        described.append(f"expression {expression!r}")
    if not chosen:
        sample = [c.id for c in cells[:5]]
        more = f" (and {len(cells) - 5} more)" if len(cells) > 5 else ""
        msg = (
            f"the selection ({'; '.join(described) or 'everything'}) matches no cell of "
            f"{len(cells)}; cell ids look like: {', '.join(sample) or 'none planned'}{more}"
        )
        raise UsageError(msg)
    return tuple(chosen)
