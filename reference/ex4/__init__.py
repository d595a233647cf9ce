"""Reference solutions and reference models of Exercise 4 (never shipped in the starter kit).
The reference uses the kit's data and model classes exactly as a student's solution.py does."""
from graders.ex4.kit_path import ensure_kit_importable

ensure_kit_importable()
