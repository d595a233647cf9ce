"""The project's own recursive-descent parser for the math language.

It reads implicit multiplication as a TA does (`w w^T x_i`, `2\\alpha^2 u^\\top S u`,
`1/N sum_i ...` = (1/N)·Σ), binds a sum to the product that follows it, keeps vectors as vectors
(transposes, norms, non-commuting products) and refuses everything it does not know, naming it
and where it is."""
from __future__ import annotations

import math
from dataclasses import dataclass

from graders.engines.math.lexer import GREEK, Token, where
from graders.engines.math.tree import (
    Add, Call, Div, Func, MathError, Mul, Neg, Node, Norm, Num, Pow, Sum, Sym, Transpose, depth, size, walk,
)

MAX_NODES = 400
MAX_DEPTH = 40
MAX_SUMS = 6
MAX_LITERAL_EXPONENT = 64

FUNCTION_WORDS = {"exp": "exp", "log": "log", "ln": "log", "sqrt": "sqrt", "abs": "abs", "norm": "norm", "cos": "cos", "arccos": "arccos", "acos": "arccos", "tr": "trace", "trace": "trace", "Tr": "trace", "dot": "dot"}
OPT_WORDS = {"argmax": "max", "argmin": "min", "max": "max", "min": "min"}
WRAPPERS = frozenset({"mathbf", "boldsymbol", "bm", "vec", "mathrm", "mathit", "mathsf", "operatorname", "mathnormal", "pmb", "mathcal"})
TRANSPOSE_WORDS = frozenset({"T", "top", "intercal"})


@dataclass(frozen=True)
class Vocabulary:
    """What an exercise lets students write: value symbols, function symbols (f, r), index
    names (i, c, c'), and the subscripts a function symbol may carry (f_theta)."""

    symbols: frozenset[str]
    functions: frozenset[str] = frozenset()
    indices: frozenset[str] = frozenset()
    components: frozenset[str] = frozenset()  # index names for vector components (z_j in sum_j z_j^2)
    function_subscripts: frozenset[str] = frozenset({"theta", "phi"})
    # `phi(x)` -> z, `f(x)` -> logit: the sheet's notation for a symbol, as (head, argument, symbol)
    applications: tuple[tuple[str, str, str], ...] = ()

    def describe(self) -> str:
        return ", ".join(sorted(self.symbols | self.functions))


@dataclass(frozen=True)
class Objective:
    """A line that optimises: `kind` is "max" or "min" over `variables`."""

    kind: str
    variables: tuple[str, ...]


class Parser:
    def __init__(self, tokens: list[Token], vocab: Vocabulary) -> None:
        self.toks = [t for t in tokens if t.kind != "amp"]
        self.vocab = vocab
        self.i = 0
        self.level = 0
        self.norm_open = 0
        self.bar_open = 0
        self.sums = 0

    # -- token helpers -------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise MathError("the expression ends too early")
        self.i += 1
        return tok

    def at(self, kind: str, text: str | None = None, k: int = 0) -> bool:
        tok = self.peek(k)
        return tok is not None and tok.kind == kind and (text is None or tok.text == text)

    def expect(self, kind: str, what: str) -> Token:
        tok = self.peek()
        if tok is None:
            raise MathError(f"expected {what} at the end of the expression")
        if tok.kind != kind:
            raise MathError(f"expected {what} {where(tok.pos)}, found '{tok.text}'")
        return self.take()

    def enter(self) -> None:
        self.level += 1
        if self.level > MAX_DEPTH:
            raise MathError(f"the expression is nested too deeply (more than {MAX_DEPTH} levels)")

    def leave(self) -> None:
        self.level -= 1

    # -- entry points --------------------------------------------------------------------
    def parse_line(self) -> tuple[Objective | None, Node]:
        objective = self.parse_objective_prefix()
        node = self.parse_expr()
        tok = self.peek()
        if tok is not None:
            raise MathError(f"unexpected '{tok.text}' {where(tok.pos)}")
        if size(node) > MAX_NODES:
            raise MathError(f"the expression is too large (more than {MAX_NODES} parts)")
        if depth(node) > MAX_DEPTH:
            raise MathError(f"the expression is nested too deeply (more than {MAX_DEPTH} levels)")
        return objective, node

    def parse_objective_prefix(self) -> Objective | None:
        tok = self.peek()
        if tok is None:
            raise MathError("the expression is empty")
        kind = None
        if tok.kind in ("name", "cmd") and tok.text in OPT_WORDS:
            kind = OPT_WORDS[tok.text]
            self.take()
        elif tok.kind in ("name", "cmd") and tok.text == "arg" and self.peek(1) is not None and self.peek(1).text in ("max", "min"):
            self.take()
            kind = self.take().text
        elif tok.kind == "cmd" and tok.text == "operatorname" and self.at("{", k=1):
            inner = []
            j = self.i + 2
            while j < len(self.toks) and self.toks[j].kind != "}":
                inner.append(self.toks[j].text)
                j += 1
            word = "".join(inner)
            if word in OPT_WORDS:
                kind = OPT_WORDS[word]
                self.i = j + 1
        elif tok.kind == "cmd" and tok.text == "underset":
            self.take()
            variables = self.parse_variable_group()
            self.expect("{", "'{'")
            opt = self.parse_objective_prefix()
            self.expect("}", "'}'")
            if opt is None:
                raise MathError(f"\\underset is only accepted around \\arg\\max or \\arg\\min {where(tok.pos)}")
            return Objective(opt.kind, variables)
        if kind is None:
            return None
        variables: tuple[str, ...] = ()
        if self.at("op", "_"):
            self.take()
            variables = self.parse_variable_group()
        return Objective(kind, variables)

    def parse_variable_group(self) -> tuple[str, ...]:
        """`_u`, `_{\\alpha, \\mathbf{u}}`, `_{\\|u\\|=1}`, `_{u \\in \\mathbb{R}^d}`: the declared
        symbols named in the subscript; constraints and other decoration are skipped."""
        if not self.at("{"):
            tok = self.take()
            if tok.kind == "cmd" and tok.text in WRAPPERS:
                self.expect("{", "'{'")
                tok = self.take()
                self.expect("}", "'}'")
            return (tok.text,) if tok.text in self.vocab.symbols else ()
        self.take()
        names: list[str] = []
        level = 1
        in_domain = False  # after `\\in` (u ∈ ℝ^d) until the next comma: not a variable
        while level:
            tok = self.take()
            if tok.kind == "{":
                level += 1
            elif tok.kind == "}":
                level -= 1
            elif tok.kind == "cmd" and tok.text == "in":
                in_domain = True
            elif tok.kind == "op" and tok.text == "," and level == 1:
                in_domain = False
            elif tok.kind in ("name", "cmd") and tok.text in self.vocab.symbols and tok.text not in names and not in_domain:
                names.append(tok.text)
        return tuple(names)

    # -- grammar -------------------------------------------------------------------------
    def parse_expr(self) -> Node:
        self.enter()
        terms: list[Node] = []
        sign = "+"
        if self.at("op", "-") or self.at("op", "+"):
            sign = self.take().text
        while True:
            term = self.parse_term()
            terms.append(Neg(term) if sign == "-" else term)
            if self.at("op", "+") or self.at("op", "-"):
                sign = self.take().text
                continue
            break
        self.leave()
        return terms[0] if len(terms) == 1 else Add(tuple(terms))

    def parse_term(self) -> Node:
        self.enter()
        left = self.parse_factor()
        while True:
            tok = self.peek()
            if tok is None:
                break
            if tok.kind == "op" and tok.text in ("*", "cdot", "/"):
                self.take()
                right = self.parse_factor()
                left = Div(left, right) if tok.text == "/" else Mul(left, right, dot=tok.text == "cdot")
            elif self.starts_operand(tok):
                left = Mul(left, self.parse_factor())
            else:
                break
        self.leave()
        return left

    def starts_operand(self, tok: Token) -> bool:
        if tok.kind in ("num", "name", "(", "[", "{", "norml", "barl", "langle"):
            return True
        if tok.kind == "cmd":
            return tok.text not in TRANSPOSE_WORDS
        if tok.kind == "norm":
            return self.norm_open == 0
        if tok.kind == "bar":
            return self.bar_open == 0
        return False

    def parse_factor(self) -> Node:
        if self.at("op", "-"):
            self.take()
            self.enter()
            node = Neg(self.parse_factor())
            self.leave()
            return node
        if self.at("op", "+"):
            self.take()
            return self.parse_factor()
        grouped = self.at("(") or self.at("[")
        return self.parse_postfix(self.parse_primary(), grouped)

    def parse_postfix(self, node: Node, grouped: bool = False) -> Node:
        while True:
            tok = self.peek()
            if tok is None or tok.kind != "op":
                return node
            if tok.text == "'":
                self.take()
                node = Transpose(node)
            elif tok.text == "_":
                self.take()
                node = self.attach_subscript(node, tok)
            elif tok.text == "^":
                self.take()
                node = self.parse_superscript(node, tok, grouped)
            else:
                return node

    def attach_subscript(self, node: Node, tok: Token) -> Node:
        index = self.read_index()
        if isinstance(node, Sym) and node.index is None:
            pair = self.index_and_component(index)
            if pair is not None:
                return Sym(node.name, pair[0], node.shown, component=pair[1])
            if index not in self.vocab.indices | self.vocab.components:
                raise MathError(f"'{node.name}_{index}' {where(tok.pos)}: '{index}' is not an index here (use one of {', '.join(sorted(self.vocab.indices))})")
            return Sym(node.name, index, node.shown)
        if isinstance(node, Call) and node.component is None and index in self.vocab.components:
            return Call(node.name, node.arg, component=index)  # f(r(x_i))_j: component j of the value
        if index == "2" and (isinstance(node, Norm) or isinstance(node, Pow) and isinstance(node.base, Norm)):
            return node  # ‖x‖_2 and ‖x‖^2_2: the Euclidean norm
        raise MathError(f"a subscript '_{index}' {where(tok.pos)} that is not understood here")

    def index_and_component(self, text: str) -> tuple[str, str] | None:
        """`x_{ij}`, `x_{i,j}`: an index, then a component index (component j of x_i)."""
        if text in self.vocab.indices | self.vocab.components:
            return None
        first, _, second = text.partition(",") if "," in text else (text[:1], "", text[1:])
        if first in self.vocab.indices and second in self.vocab.components:
            return first, second
        return None

    def read_index(self) -> str:
        """The text of a subscript: one token (plus primes), or a {...} group of them."""
        if self.at("{"):
            self.take()
            parts: list[str] = []
            level = 1
            while True:
                tok = self.take()
                level += {"{": 1, "}": -1}.get(tok.kind, 0)
                if level == 0:
                    break
                if tok.kind in ("{", "}") or tok.text == "^" or tok.kind == "cmd" and tok.text in WRAPPERS | {"hat"}:
                    continue
                parts.append(tok.text)
            return "".join(parts)
        tok = self.take()
        text = tok.text
        if tok.kind == "num" and len(text) > 1:
            raise MathError(f"a multi-digit subscript {where(tok.pos)}: write it in braces")
        return text + self.read_primes()

    def read_primes(self) -> str:
        """Primes after an index: c', c^\\prime, c^{\\prime}."""
        out = ""
        while True:
            seq = [t.text for t in self.toks[self.i:self.i + 4]]
            if seq[:1] == ["'"]:
                self.i += 1
            elif seq[:2] == ["^", "'"]:
                self.i += 2
            elif seq[:4] == ["^", "{", "'", "}"]:
                self.i += 4
            else:
                return out
            out += "'"

    def parse_superscript(self, base: Node, tok: Token, grouped: bool = False) -> Node:
        if self.is_transpose_mark():
            return Transpose(base)
        if isinstance(base, Pow):
            raise MathError(f"a power of a power {where(tok.pos)}: use parentheses or braces")
        self.enter()
        if self.at("{"):
            self.take()
            exponent = self.parse_expr()
            self.expect("}", "'}'")
        elif self.at("("):
            self.take()
            exponent = self.parse_expr()
            self.expect(")", "')'")
        elif self.at("op", "-"):
            self.take()
            exponent = Neg(self.parse_primary())
        else:
            exponent = self.parse_primary()
        self.leave()
        if any(isinstance(n, (Pow, Sum)) for n in walk(exponent)) or (isinstance(exponent, Func) and exponent.name == "exp"):
            raise MathError(f"an exponent that is itself a power {where(tok.pos)} is not accepted")
        literal = _literal_value(exponent)
        if literal is not None and abs(literal) > MAX_LITERAL_EXPONENT:
            raise MathError(f"the exponent {where(tok.pos)} is too large (at most {MAX_LITERAL_EXPONENT})")
        if isinstance(base, Num) and base.text == "e":
            return Func("exp", (exponent,))
        return Pow(base, exponent, grouped=grouped)

    def is_transpose_mark(self) -> bool:
        """^T, ^\\top, ^{T}, ^{\\top}, ^\\intercal, ^{\\mathsf{T}}, ^\\mathsf{T}: consume and say so."""
        seq = [t.text for t in self.toks[self.i:self.i + 6]]

        def consume(k: int) -> bool:
            self.i += k
            return True

        if seq[:1] == ["T"] and "T" not in self.vocab.symbols or seq[:1] in (["top"], ["intercal"]):
            return consume(1)
        if seq[:3] in (["{", "T", "}"], ["{", "top", "}"], ["{", "intercal", "}"]):
            return consume(3)
        if seq[:4] == ["mathsf", "{", "T", "}"] or seq[:4] == ["mathrm", "{", "T", "}"]:
            return consume(4)
        if seq[:6] in (["{", "mathsf", "{", "T", "}", "}"], ["{", "mathrm", "{", "T", "}", "}"]):
            return consume(6)
        if seq[:1] == ["'"]:
            return consume(1)
        return False

    def parse_primary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise MathError("the expression ends too early")
        self.enter()
        try:
            return self._primary(tok)
        finally:
            self.leave()

    def _primary(self, tok: Token) -> Node:
        kind, text = tok.kind, tok.text
        if kind == "num":
            self.take()
            return Num(float(text), text)
        if kind in ("(", "[", "{"):
            self.take()
            closing = {"(": ")", "[": "]", "{": "}"}[kind]
            saved = self.norm_open, self.bar_open
            self.norm_open = self.bar_open = 0
            node = self.parse_expr()
            self.norm_open, self.bar_open = saved
            self.expect(closing, f"'{closing}'")
            return node
        if kind in ("norm", "norml"):
            self.take()
            self.norm_open += 1
            node = self.parse_expr()
            self.norm_open -= 1
            closing = self.take() if self.peek() is not None else None
            if closing is None or closing.kind not in ("norm", "normr"):
                raise MathError(f"the norm opened {where(tok.pos)} is not closed")
            return Norm(node)
        if kind in ("bar", "barl"):
            self.take()
            self.bar_open += 1
            node = self.parse_expr()
            self.bar_open -= 1
            closing = self.take() if self.peek() is not None else None
            if closing is None or closing.kind not in ("bar", "barr"):
                raise MathError(f"the absolute value opened {where(tok.pos)} is not closed")
            return Func("abs", (node,))
        if kind == "langle":
            self.take()
            left = self.parse_expr()
            self.expect("op", "','")
            right = self.parse_expr()
            self.expect("rangle", "'\\rangle'")
            return Func("inner", (left, right))
        if kind == "name":
            return self.name_primary(tok)
        if kind == "cmd":
            return self.command_primary(tok)
        raise MathError(f"unexpected '{text}' {where(tok.pos)}")

    def application(self, tok: Token) -> Node | None:
        """`phi(x)`, `\\phi(\\mathbf{x})`, `f(x)` standing for a declared symbol; consumed if so."""
        for head, argument, symbol in self.vocab.applications:
            if tok.text != head or not self.at("(", k=1):
                continue
            j = self.i + 2
            inner: list[str] = []
            while j < len(self.toks) and self.toks[j].kind != ")":
                if self.toks[j].kind not in ("{", "}") and not (self.toks[j].kind == "cmd" and self.toks[j].text in WRAPPERS):
                    inner.append(self.toks[j].text)
                j += 1
            if inner == [argument] and j < len(self.toks):
                self.i = j + 1
                head_latex = "\\" + head if tok.kind == "cmd" else head
                return Sym(symbol, shown=f"{head_latex}({argument})")
        return None

    def name_primary(self, tok: Token) -> Node:
        text = tok.text
        applied = self.application(tok)
        if applied is not None:
            return applied
        if text in FUNCTION_WORDS:
            self.take()
            return self.function(FUNCTION_WORDS[text], tok)
        if text == "sum":
            self.take()
            return self.summation(tok)
        if text == "E" and text not in self.vocab.symbols and self.at("op", "_", k=1):
            self.take()
            return self.expectation(tok)
        if text in self.vocab.functions:
            self.take()
            return self.call(text, tok)
        if text in self.vocab.symbols:
            self.take()
            return Sym(text)
        if text in OPT_WORDS or text == "arg":
            raise MathError(f"'{text}' {where(tok.pos)}: an optimisation (argmax/argmin) may only start a line")
        if text == "e":
            self.take()
            return Num(math.e, "e")
        if text == "pi":
            self.take()
            return Num(math.pi, "pi")
        letters = list(text)
        if len(letters) > 1 and all(ch in self.vocab.symbols or ch in self.vocab.functions for ch in letters):
            # `uSu` read as u S u: split a run of known one-letter symbols.
            self.toks[self.i:self.i + 1] = [Token("name", ch, tok.pos + k) for k, ch in enumerate(letters)]
            return self._primary(self.peek())
        raise MathError(f"unknown symbol '{text}' {where(tok.pos)} (known here: {self.vocab.describe()})")

    def command_primary(self, tok: Token) -> Node:
        text = tok.text
        if text in GREEK:
            applied = self.application(tok)
            if applied is not None:
                return applied
            if text == "pi" and "pi" not in self.vocab.symbols:
                self.take()
                return Num(math.pi, "pi")
            if text in self.vocab.symbols:
                self.take()
                return Sym(text)
            if text in self.vocab.functions:
                self.take()
                return self.call(text, tok)
            raise MathError(f"unknown symbol '\\{text}' {where(tok.pos)} (known here: {self.vocab.describe()})")
        if text in ("frac", "dfrac", "tfrac"):
            self.take()
            num = self.group_argument(tok)
            den = self.group_argument(tok)
            return Div(num, den)
        if text in ("exp", "log", "ln", "sqrt", "cos", "arccos", "tr", "Tr", "trace"):
            self.take()
            if text == "sqrt" and self.at("["):
                raise MathError(f"\\sqrt[n] {where(tok.pos)} is not accepted: write a power")
            return self.function(FUNCTION_WORDS[text], tok)
        if text == "sum":
            self.take()
            return self.summation(tok)
        if text == "mathbb" and [t.text for t in self.toks[self.i + 1:self.i + 5]] == ["{", "E", "}", "_"]:
            self.i += 4
            return self.expectation(tok)
        if text in WRAPPERS:
            self.take()
            if text in ("operatorname", "mathrm") and self.at("{"):
                word = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
                if word is not None and word.text in FUNCTION_WORDS and self.at("}", k=2):
                    self.i += 3
                    return self.function(FUNCTION_WORDS[word.text], tok)
            return self.group_argument(tok)
        if text in ("hat", "widehat"):
            self.take()
            inner = self.group_argument(tok)
            if isinstance(inner, Sym) and inner.name + "hat" in self.vocab.symbols:
                return Sym(inner.name + "hat", inner.index)
            raise MathError(f"\\{text} {where(tok.pos)} is only accepted on a declared symbol")
        if text in OPT_WORDS or text == "arg":
            raise MathError(f"'\\{text}' {where(tok.pos)}: an optimisation (argmax/argmin) may only start a line")
        if text in TRANSPOSE_WORDS:
            raise MathError(f"'\\{text}' {where(tok.pos)} is only accepted as an exponent (^\\top)")
        raise MathError(f"'\\{text}' {where(tok.pos)} is not part of the accepted notation")

    def group_argument(self, tok: Token) -> Node:
        """A {...} argument of a LaTeX command, or a single token/command (\\frac12, \\mathbf x)."""
        if self.at("{"):
            self.take()
            saved = self.norm_open, self.bar_open
            self.norm_open = self.bar_open = 0
            node = self.parse_expr()
            self.norm_open, self.bar_open = saved
            self.expect("}", "'}'")
            return node
        nxt = self.peek()
        if nxt is None:
            raise MathError(f"'\\{tok.text}' {where(tok.pos)} is missing its argument")
        if nxt.kind == "num" and len(nxt.text) > 1 and nxt.text.isdigit():
            # \frac12: each digit is one argument.
            self.toks[self.i:self.i + 1] = [Token("num", ch, nxt.pos + k) for k, ch in enumerate(nxt.text)]
        return self.parse_primary()

    def function(self, name: str, tok: Token) -> Node:
        base: Num | None = None
        if name == "log" and tok.text != "ln" and self.at("op", "_"):
            base = self.log_base(tok)
        if self.at("op", "_") or self.at("op", "^"):
            raise MathError(f"a sub- or superscript on '{tok.text}' {where(tok.pos)} is not accepted")
        if self.at("("):
            self.take()
            saved = self.norm_open, self.bar_open
            self.norm_open = self.bar_open = 0
            args = [self.parse_expr()]
            while self.at("op", ","):
                self.take()
                args.append(self.parse_expr())
            self.norm_open, self.bar_open = saved
            self.expect(")", "')'")
        elif self.at("{"):
            args = [self.group_argument(tok)]
        else:
            args = [self.parse_factor()]
        if name == "cos" and len(args) == 2:
            return Func("cossim", tuple(args))
        if name == "dot":  # NumPy `dot(a, b)`: the inner product aᵀb
            if len(args) != 2:
                raise MathError(f"'{tok.text}' {where(tok.pos)} takes two arguments: dot(a, b)")
            return Mul(Transpose(args[0]), args[1])
        if len(args) != 1:
            raise MathError(f"'{tok.text}' {where(tok.pos)} takes one argument, got {len(args)}")
        if name == "norm":
            return Norm(args[0])
        if base is not None:
            return Func("logb", (args[0], base))
        return Func(name, (args[0],))

    def log_base(self, tok: Token) -> Num | None:
        """`log_2`, `\\log_{10}`: the logarithm to a numeric base; `\\log_e` is the natural one."""
        self.take()
        text = self.read_index()
        if text == "e":
            return None
        try:
            value = float(text)
        except ValueError:
            value = 0.0
        if not (value > 0 and value != 1 and text.replace(".", "", 1).isdigit()):
            raise MathError(f"the base of the logarithm {where(tok.pos)} must be a number such as 2 or 10, or e")
        return Num(value, text)

    def call(self, name: str, tok: Token) -> Node:
        if self.at("op", "_"):
            self.take()
            sub = self.read_index().lstrip("\\")
            if sub not in self.vocab.function_subscripts:
                raise MathError(f"'{name}_{sub}' {where(tok.pos)}: only a parameter subscript such as θ is accepted")
        if not self.at("("):
            raise MathError(f"the function '{name}' {where(tok.pos)} must be applied to an argument: {name}(...)")
        self.take()
        saved = self.norm_open, self.bar_open
        self.norm_open = self.bar_open = 0
        arg = self.parse_expr()
        self.norm_open, self.bar_open = saved
        self.expect(")", "')'")
        return Call(name, arg)

    def summation(self, tok: Token) -> Node:
        self.sums += 1
        if self.sums > MAX_SUMS:
            raise MathError(f"too many sums (at most {MAX_SUMS})")
        if not self.at("op", "_"):
            raise MathError(f"the sum {where(tok.pos)} needs its index, e.g. \\sum_i or sum_{{i=1}}^N")
        self.take()
        lower: Node | None = None
        if self.at("{"):
            self.take()
            index = self.read_index_name()
            if self.at("rel", "="):
                self.take()
                lower = self.parse_expr()
            self.expect("}", "'}'")
        else:
            index = self.read_index_name()
        upper: Node | None = None
        if self.at("op", "^"):
            self.take()
            upper = self.group_argument(tok) if self.at("{") else self.parse_primary()
        body = self.parse_term()
        return Sum(index, body, lower, upper)

    def expectation(self, tok: Token) -> Node:
        """`\\mathbb{E}_i[...]`, `E_i(...)`: the mean over a data index, 1/N Σ_i ...; an
        expectation over anything else (E_r over rotations) is not notation the engine reads."""
        self.sums += 1
        if self.sums > MAX_SUMS:
            raise MathError(f"too many sums (at most {MAX_SUMS})")
        self.expect("op", "'_'")
        if self.at("{"):
            self.take()
            name = self.take()
            self.expect("}", "'}'")
        else:
            name = self.take()
        if name.text not in self.vocab.indices:
            raise MathError(f"E_{name.text} {where(tok.pos)}: an expectation is accepted over a data index only (E_i[...] for 1/N Σ_i ...)")
        # E_i[a] b is E[a]·b; without brackets it binds the product that follows, as Σ_i does.
        body = self.parse_primary() if self.at("[") or self.at("(") else self.parse_term()
        return Sum(name.text, body, mean=True)

    def read_index_name(self) -> str:
        tok = self.take()
        if tok.kind == "cmd" and tok.text in WRAPPERS:
            self.expect("{", "'{'")
            tok = self.take()
            self.expect("}", "'}'")
        text = tok.text + self.read_primes()
        if text not in self.vocab.indices | self.vocab.components:
            raise MathError(f"'{text}' {where(tok.pos)} is not a summation index here (use one of {', '.join(sorted(self.vocab.indices))})")
        return text


def _literal_value(node: Node) -> float | None:
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Neg):
        inner = _literal_value(node.arg)
        return None if inner is None else -inner
    if isinstance(node, Div):
        a, b = _literal_value(node.num), _literal_value(node.den)
        return None if a is None or b is None or b == 0 else a / b
    return None


def parse_tokens(tokens: list[Token], vocab: Vocabulary) -> tuple[Objective | None, Node]:
    return Parser(tokens, vocab).parse_line()
