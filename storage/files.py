"""Files that hold personal data or keys: their folder is the owner's only."""

from __future__ import annotations

import os
from pathlib import Path


def private_folder(folder: Path) -> None:
    """Create `folder` (and its parents) if it is not there, itself 0700 whatever the umask; a
    folder that exists is left as it is."""
    if folder.exists():
        return
    folder.mkdir(parents=True, mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)  # mkdir's mode is cut by the umask
