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


def module_name_of(code_dir: str, module: str = "app") -> str:
    """The unique name the handler module of ``code_dir`` is imported under."""
    return "receivables_function_" + code_dir.strip("/").replace("/", "_") + f"_{module}"


@cache
def load_module(code_dir: str, module: str = "app") -> ModuleType:
    """Import ``<code_dir>/<module>.py`` under a name of its own (every function has an app.py).

    As on Lambda, the code directory is on ``sys.path`` while the module executes, so it imports
    its own modules absolutely (``from routes import invoices``). Those modules are then
    re-keyed under the handler's unique name (``<name>.routes.invoices``): two functions'
    ``routes`` packages never meet, as each Lambda function has its own process."""
    path = REPO_ROOT / code_dir / f"{module}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no handler module at {path}")
    module_name = module_name_of(code_dir, module)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = loaded
    directory = str(path.parent)
    sys.path.insert(0, directory)
    try:
        spec.loader.exec_module(loaded)
    finally:
        sys.path.remove(directory)
        _OWN[id(loaded)] = _rekey(module_name, path.parent)
    return loaded


def _rekey(module_name: str, directory: Path) -> dict[str, ModuleType]:
    """Move the modules imported from ``directory`` (but the handler) under ``module_name``;
    they are answered by their own names (``routes.wiring``)."""
    own = [
        name
        for name, found in list(sys.modules.items())
        if name != module_name
        and not name.startswith(f"{module_name}.")
        and getattr(found, "__file__", None)
        and Path(str(found.__file__)).resolve().is_relative_to(directory.resolve())
    ]
    moved = {name: sys.modules.pop(name) for name in own}
    for name, found in moved.items():
        sys.modules[f"{module_name}.{name}"] = found
    return moved


# Each loaded handler's own modules, by the handler's id: a handler loaded twice (the runtime and
# a test each load theirs) keeps its own, though the second took the names in sys.modules.
_OWN: dict[int, dict[str, ModuleType]] = {}


def own_modules(handler: ModuleType) -> list[ModuleType]:
    """The handler module and the modules of its code directory that it loaded."""
    return [handler, *_OWN.get(id(handler), {}).values()]


def function_module(name: str, module: str) -> ModuleType:
    """One of the modules of ``functions/<name>`` (``routes.wiring``), as its handler loaded it."""
    return _OWN[id(load_function(name))][module]


def load_function(name: str) -> ModuleType:
    """The handler module of ``functions/<name>``."""
    return load_module(f"functions/{name}")
