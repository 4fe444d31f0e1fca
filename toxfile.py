"""tox plugin loaded from the project root: find every pyenv-installed CPython.

pyenv's shims only expose the versions selected with ``pyenv global``; tox looks
for ``python3.9`` ... ``python3.13`` on PATH. Appending each pyenv version's
``bin`` directory lets ``tox -e py39,py313`` work on a fresh machine without
changing its pyenv settings. Machines without pyenv are left as they are.
"""

from __future__ import annotations

import os
from pathlib import Path

_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
if _root.is_dir():
    _bins = [str(p / "bin") for p in sorted(_root.iterdir()) if (p / "bin").is_dir()]
    os.environ["PATH"] = os.pathsep.join([*_bins, os.environ.get("PATH", "")])
