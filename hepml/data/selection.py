"""Event selections from a small, safe grammar: comparisons joined by ``and`` / ``or`` / ``not``.

    selection: "m_jj > 100 and m_jj < 150"
    selection: "(n_jets >= 2 or met > 50) and not abs(eta) > 2.5"

Grammar (parsed here, never ``eval``-ed)::

    expr   := term ("or" term)*
    term   := factor ("and" factor)*
    factor := "not" factor | "(" expr ")" | cmp
    cmp    := value OP value [OP value]          OP in < <= > >= == !=  (chains: 100 < m < 150)
    value  := NUMBER | COLUMN | "abs(" COLUMN ")" | "-" value

A column is a name of letters, digits, ``_``, ``.`` and ``/``; numbers may use exponents.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from hepml.errors import HepmlError

_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<op><=|>=|==|!=|<|>)"
                    r"|(?P<par>[()])|(?P<minus>-)|(?P<name>[A-Za-z_][A-Za-z0-9_./]*))")
_OPS: dict[str, Callable] = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
                             "==": operator.eq, "!=": operator.ne}
_KEYWORDS = ("and", "or", "not", "abs")


class SelectionError(HepmlError, ValueError):
    """A selection string that the grammar does not accept."""


@dataclass(frozen=True)
class Selection:
    """A parsed selection: ``mask(columns)`` evaluates it on arrays, ``columns`` names what it reads."""

    text: str
    tree: tuple
    columns: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Selection:
        tokens = _tokenize(text)
        parser = _Parser(text, tokens)
        tree = parser.expr()
        if parser.pos != len(tokens):
            raise SelectionError(f"selection {text!r}: unexpected {tokens[parser.pos][1]!r}; "
                                 "join comparisons with and / or")
        return cls(text=text, tree=tree, columns=tuple(dict.fromkeys(parser.names)))

    def mask(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Boolean array, one entry per event."""
        missing = [c for c in self.columns if c not in columns]
        if missing:
            raise KeyError(f"selection {self.text!r} needs column(s) {missing}")
        out = np.asarray(_evaluate(self.tree, columns))
        if out.dtype != bool or out.ndim != 1:
            raise SelectionError(f"selection {self.text!r} must compare per-event (flat) columns; "
                                 f"it gave an array of shape {out.shape}")
        return out


def _tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise SelectionError(f"selection {text!r}: cannot read {text[pos:pos + 12]!r} "
                                 "(allowed: column names, numbers, < <= > >= == !=, and, or, not, abs(), parentheses)")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if not out:
        raise SelectionError("selection is empty")
    return out


class _Parser:
    def __init__(self, text: str, tokens: list[tuple[str, str]]):
        self.text, self.tokens, self.pos, self.names = text, tokens, 0, []

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, kind: str, value: str | None = None) -> str:
        tok = self._peek()
        if tok is None or tok[0] != kind or (value is not None and tok[1] != value):
            got = "the end" if tok is None else repr(tok[1])
            raise SelectionError(f"selection {self.text!r}: expected {value or kind} but found {got}")
        self.pos += 1
        return tok[1]

    def _is(self, kind: str, value: str | None = None) -> bool:
        tok = self._peek()
        return tok is not None and tok[0] == kind and (value is None or tok[1] == value)

    def expr(self) -> tuple:
        node = self.term()
        while self._is("name", "or"):
            self.pos += 1
            node = ("or", node, self.term())
        return node

    def term(self) -> tuple:
        node = self.factor()
        while self._is("name", "and"):
            self.pos += 1
            node = ("and", node, self.factor())
        return node

    def factor(self) -> tuple:
        if self._is("name", "not"):
            self.pos += 1
            return ("not", self.factor())
        if self._is("par", "("):
            self.pos += 1
            node = self.expr()
            self._take("par", ")")
            return node
        return self.comparison()

    def comparison(self) -> tuple:
        left = self.value()
        if not self._is("op"):
            raise SelectionError(f"selection {self.text!r}: a comparison (<, >, ==, ...) is needed after "
                                 f"{self.tokens[self.pos - 1][1]!r}")
        node = None
        while self._is("op"):
            op = self._take("op")
            right = self.value()
            cmp = ("cmp", op, left, right)
            node = cmp if node is None else ("and", node, cmp)
            left = right
        return node

    def value(self) -> tuple:
        if self._is("minus"):
            self.pos += 1
            return ("neg", self.value())
        if self._is("num"):
            return ("num", float(self._take("num")))
        if self._is("name", "abs"):
            self.pos += 1
            self._take("par", "(")
            inner = self.value()
            self._take("par", ")")
            return ("abs", inner)
        name = self._take("name")
        if name in _KEYWORDS:
            raise SelectionError(f"selection {self.text!r}: {name!r} where a column or number was expected")
        self.names.append(name)
        return ("col", name)


def _evaluate(node: tuple, columns: Mapping[str, np.ndarray]):
    kind = node[0]
    if kind == "or":
        return _evaluate(node[1], columns) | _evaluate(node[2], columns)
    if kind == "and":
        return _evaluate(node[1], columns) & _evaluate(node[2], columns)
    if kind == "not":
        return ~_evaluate(node[1], columns)
    if kind == "cmp":
        return _OPS[node[1]](_evaluate(node[2], columns), _evaluate(node[3], columns))
    if kind == "neg":
        return -_evaluate(node[1], columns)
    if kind == "abs":
        return np.abs(_evaluate(node[1], columns))
    if kind == "num":
        return node[1]
    return np.asarray(columns[node[1]])
