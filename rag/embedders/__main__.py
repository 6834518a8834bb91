"""`python -m rag.embedders [--force]`: export the default model to ONNX now (``make setup`` runs
it, so the first question does not wait for the export)."""
import logging
import sys

from ..settings import DEFAULT_MODEL
from . import model_path
from .onnx import export, export_folder

# This program's own logging: rag's notes on the export, not the quantizer's advice.
logging.basicConfig(level=logging.ERROR, format="%(message)s")
logging.getLogger("rag").setLevel(logging.INFO)
source, _ = model_path(DEFAULT_MODEL)
folder = export_folder(source)
if (folder / "export.json").is_file() and "--force" not in sys.argv:
    print(f"ONNX model already exported in {folder}", file=sys.stderr)
else:
    export(source, folder)
