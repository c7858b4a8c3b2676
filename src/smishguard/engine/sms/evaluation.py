"""Evaluation figures for the text model: per-class precision, recall, F1 and the confusion matrix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .dataset import LABELS


def evaluate(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, object]:
    """Figures on a labelled set; the confusion matrix rows are true labels, columns predicted, in LABELS order."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(LABELS), zero_division=0
    )
    per_class = {
        label: {
            "precision": round(float(p), 4),
            "recall": round(float(r), 4),
            "f1": round(float(f), 4),
            "support": int(s),
        }
        for label, p, r, f, s in zip(LABELS, precision, recall, f1, support, strict=True)
    }
    # "unwanted" = spam or smishing, the binary question the older papers answer
    unwanted_true = [y != "ham" for y in y_true]
    unwanted_pred = [y != "ham" for y in y_pred]
    return {
        "n": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "accuracy_unwanted_vs_ham": round(float(accuracy_score(unwanted_true, unwanted_pred)), 4),
        "macro_f1": round(float(sum(f1) / len(LABELS)), 4),
        "per_class": per_class,
        "labels": list(LABELS),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
    }


def smishing_recall(y_pred: Sequence[str]) -> dict[str, object]:
    """Figures on a set that is all smishing (SmishTank): only recall can be measured there."""
    counts = Counter(y_pred)
    n = len(y_pred)
    return {
        "n": n,
        "predicted": {label: counts.get(label, 0) for label in LABELS},
        "recall_smishing": round(counts.get("smishing", 0) / n, 4) if n else 0.0,
        "recall_unwanted": round((n - counts.get("ham", 0)) / n, 4) if n else 0.0,
    }
