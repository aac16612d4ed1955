"""Loading the Lambda handlers from functions/<name>/app.py, as Lambda itself would."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"


@cache
def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` under a unique module name (every function has an app.py)."""
    path = FUNCTIONS_DIR / name / "app.py"
    if not path.is_file():
        raise FileNotFoundError(f"no handler module at {path}")
    module_name = f"receivables_function_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
