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
def load_module(code_dir: str, module: str = "app") -> ModuleType:
    """Import ``<code_dir>/<module>.py`` under a name of its own (every function has an app.py)."""
    path = REPO_ROOT / code_dir / f"{module}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no handler module at {path}")
    module_name = "receivables_function_" + code_dir.strip("/").replace("/", "_") + f"_{module}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def load_function(name: str) -> ModuleType:
    """The handler module of ``functions/<name>``."""
    return load_module(f"functions/{name}")
