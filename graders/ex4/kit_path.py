"""Put the starter kit's root on sys.path so the trusted parent can use `sheet8kit`'s data,
rotation and model classes: the same code the sandbox and the students run."""
import sys
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent / "kit"


def ensure_kit_importable() -> None:
    if str(KIT_ROOT) not in sys.path:
        sys.path.append(str(KIT_ROOT))
