"""The rubric of one exercise: data in `graders/<exercise>/rubric.yaml`, read into typed models.

A TA changes points, thresholds and engine parameters here without touching a grader.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

ItemType = Literal["expression", "derivation", "text", "text_list", "file"]
ANSWER_TYPES: tuple[str, ...] = ("expression", "derivation", "text", "text_list")


class ItemSpec(BaseModel):
    """One graded item, `<part>.<field>`. `check` holds the engine and its parameters."""

    model_config = ConfigDict(extra="forbid")

    field: str
    type: ItemType
    points: float = Field(gt=0)
    description: str = ""
    # For `file` items: which uploaded file (by its logical name) the item grades.
    file: str | None = None
    check: dict[str, Any] = Field(default_factory=dict)
    part: str = ""  # filled in from the enclosing part

    @property
    def id(self) -> str:
        return f"{self.part}.{self.field}"

    @property
    def engine(self) -> str | None:
        return self.check.get("engine")


class PartSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = ""
    items: list[ItemSpec]


class FileSpec(BaseModel):
    """An upload an exercise accepts: a logical name and the filenames that may carry it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    accept: list[str]
    max_bytes: int = Field(gt=0)
    description: str = ""


class Rubric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exercise: str
    title: str
    max_points: float
    parts: list[PartSpec]
    files: list[FileSpec] = Field(default_factory=list)
    folder: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> "Rubric":
        seen: set[str] = set()
        for part in self.parts:
            for item in part.items:
                item.part = part.id
                if item.id in seen:
                    raise ValueError(f"item {item.id} appears twice")
                seen.add(item.id)
        total = sum(i.points for i in self.items)
        if abs(total - self.max_points) > 1e-9:
            raise ValueError(f"items add up to {total}, max_points says {self.max_points}")
        answer_fields = [i.field for i in self.items if i.type in ANSWER_TYPES]
        if len(answer_fields) != len(set(answer_fields)):
            raise ValueError("answer fields must be unique within an exercise")
        return self

    @property
    def items(self) -> list[ItemSpec]:
        return [item for part in self.parts for item in part.items]

    def item(self, item_id: str) -> ItemSpec:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    @property
    def answer_items(self) -> list[ItemSpec]:
        return [i for i in self.items if i.type in ANSWER_TYPES]


def load_rubric(folder: Path) -> Rubric:
    path = folder / "rubric.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rubric = Rubric.model_validate(data)
    rubric.folder = folder
    return rubric
