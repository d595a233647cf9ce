"""Where the Exercise 4 reference lives (shared by the ex4 tests)."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "reference" / "ex4"
