"""Thread-safe access to ``transformers`` names.

transformers 5.x resolves its top-level names lazily, and two threads resolving names at
the same time can fail with "cannot import name 'AutoModelForCausalLM' from
'transformers'". The app generates in background threads while pages run, so every name
workbench takes from transformers goes through one lock.
"""

from __future__ import annotations

import threading

_LOCK = threading.Lock()


def hf(*names: str):
    """``hf("AutoTokenizer", "AutoModelForCausalLM")`` -> those objects, resolved under a
    process-wide lock. One name gives the object itself, several a tuple."""
    with _LOCK:
        import transformers

        found = tuple(getattr(transformers, n) for n in names)
    return found[0] if len(found) == 1 else found
