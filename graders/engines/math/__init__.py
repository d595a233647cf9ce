"""The math engine: a whitelisted parser for ASCII and a LaTeX subset, numeric evaluation of
vector expressions on sampled instantiations, and the relations of a derivation (contract §3).

Student text is only ever tokenised and parsed here; no `eval`, `sympify` or `parse_expr`."""
