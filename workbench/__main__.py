"""``python -m workbench``: the command line (what ``workbench train --launch`` starts)."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main()
