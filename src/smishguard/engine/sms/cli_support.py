"""What `smishguard model train --data DIR [--out FILE]` runs (the argparse wiring lives in smishguard.cli)."""

from __future__ import annotations

from pathlib import Path

from .model import DEFAULT_MODEL_PATH, DEFAULT_SEED, TextModel, train


def train_command(data_dir: str, out: str | None, seed: int = DEFAULT_SEED) -> dict:
    """Train on DIR (the shared data folder or its sms/ folder), write the model, return the evaluation figures.

    Raises DatasetError (a ValueError) with a one-line message when DIR does not hold the SMS data. The model is
    written to `out`, or over the package's shipped model when `out` is None; the file is re-read before
    returning, so a model that would not load is never reported as written.
    """
    model, report = train(data_dir, seed=seed)
    path = Path(out) if out else DEFAULT_MODEL_PATH
    model.save(path)
    TextModel.load(path)
    figures = report.to_dict()
    figures["model_path"] = str(path)
    figures["model_bytes"] = path.stat().st_size
    return figures
