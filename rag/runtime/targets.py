"""What the registries (file formats, store kinds, readers) name: "module:attribute", the module
one of the registry's package, else a module of that absolute name; imported when first used."""
from __future__ import annotations

import importlib
import importlib.util


def resolve(target: str, package: str):
    """The attribute ``target`` ("module:attribute") names, its module looked up in
    ``package`` first, then as an absolute name."""
    module, _, attribute = target.partition(":")
    if importlib.util.find_spec(f"{package}.{module}") is not None:
        module = f"{package}.{module}"
    return getattr(importlib.import_module(module), attribute)
