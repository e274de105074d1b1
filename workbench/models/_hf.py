"""Thread-safe use of ``transformers`` inside one process.

transformers 5.x resolves its names (and many internal imports) lazily, and two threads
doing that at the same time can fail with "cannot import name 'AutoModelForCausalLM' from
'transformers'" or "module 'transformers' has no attribute ...". The app evaluates and
probes in background threads, so every name workbench takes from transformers, and every
model load, goes through one re-entrant lock; the app's model jobs hold it while they run.
"""

from __future__ import annotations

import threading

LOCK = threading.RLock()


def hf(*names: str):
    """``hf("AutoTokenizer", "AutoModelForCausalLM")`` -> those objects, resolved under the
    lock. One name gives the object itself, several a tuple."""
    with LOCK:
        import transformers

        found = tuple(getattr(transformers, n) for n in names)
    return found[0] if len(found) == 1 else found
