"""Answer formats of contract §3, and the pydantic model of one exercise's `answers`,
generated from its rubric so that the JSON schema in the catalogue and the validation of a
submission are the same thing."""
from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from graders.rubric import Rubric

MAX_EXPRESSION_CHARS = 1000
MAX_TEXT_CHARS = 2000
MAX_LIST_ITEMS = 10
MAX_DERIVATION_LINES = 40
MAX_DERIVATION_TEXT_CHARS = 12000

Expression = Annotated[str, StringConstraints(max_length=MAX_EXPRESSION_CHARS)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]


class DerivationLine(BaseModel):
    """One line of a derivation; `rel` relates it to the previous line ("" on the first)."""

    model_config = ConfigDict(extra="forbid")

    # A relation may carry its optimisation in LaTeX: `\Rightarrow \operatorname{argmax}_{\boldsymbol{u}}` is 48.
    rel: Annotated[str, StringConstraints(max_length=200)] = ""
    expr: Expression


Derivation = (
    Annotated[list[DerivationLine], Field(max_length=MAX_DERIVATION_LINES)]
    | Annotated[str, StringConstraints(max_length=MAX_DERIVATION_TEXT_CHARS)]
)
TextList = Annotated[list[Text], Field(max_length=MAX_LIST_ITEMS)]

FIELD_TYPES: dict[str, Any] = {
    "expression": Expression,
    "derivation": Derivation,
    "text": Text,
    "text_list": TextList,
}


@lru_cache(maxsize=None)
def _model_for(exercise: str, fields: tuple[tuple[str, str, str], ...]) -> type[BaseModel]:
    definitions: dict[str, Any] = {
        name: (FIELD_TYPES[kind] | None, Field(default=None, description=desc))
        for name, kind, desc in fields
    }
    return create_model(
        f"{exercise.capitalize()}Answers",
        __config__=ConfigDict(extra="forbid"),
        **definitions,
    )


def answer_model(rubric: Rubric) -> type[BaseModel]:
    """Unknown fields are refused (extra="forbid"); every field may be left out."""
    fields = tuple((i.field, i.type, i.description) for i in rubric.answer_items)
    return _model_for(rubric.exercise, fields)
