"""Execute notebooks in place so their stored outputs are what the code produces today.

Usage: python tools/execute_inplace.py book/*.ipynb   (run from the repository root)
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", record_timing=False, resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        execute(Path(arg))
        print(f"executed {arg}")
