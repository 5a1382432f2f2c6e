"""Write a benchmark's results into its own section of BENCHMARKS.md (and read the budget a
shipped config trains for, which several benchmarks scale or compare against).

A section is the text between ``<!-- begin: NAME -->`` and ``<!-- end: NAME -->``; writing it
replaces only that text (or appends the section at the end of the file the first time), so
every published row comes from the script that measured it and reruns update it in place.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "BENCHMARKS.md"


def default_steps(task: str) -> int:
    """The training budget (``train.total_steps``) of the task's shipped config."""
    config = yaml.safe_load((ROOT / "configs" / f"{task}.yaml").read_text())
    return int(config["train"]["total_steps"])


def write_section(name: str, markdown: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) section ``name`` of ``path`` with ``markdown``."""
    begin, end = f"<!-- begin: {name} -->", f"<!-- end: {name} -->"
    block = f"{begin}\n{markdown.rstrip()}\n{end}"
    text = path.read_text() if path.is_file() else ""
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
