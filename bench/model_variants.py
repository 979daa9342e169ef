"""Model variants for reload tests and benchmarks: the same model with one response reworded,
or with a graph component that does not exist (passes the publish check, fails to load).

A response lives in the model twice (metadata.json's domain, which the server answers
from, and the domain provider's domain.yml); both are rewritten and the tarball repacked
member by member, so the variant loads like a model `rasa train` wrote, in a second.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Callable, Optional, Tuple

MISSING_COMPONENT = "bot.no_such_module.NoSuchComponent"


def reworded_model(source: Path, target: Path, response: str, old: str, new: str) -> Path:
    """`source` with `old` replaced by `new` in the first text of `response`."""

    def reword(metadata: dict) -> None:
        first = metadata["domain"]["responses"][response][0]
        assert old in first["text"], first
        first["text"] = first["text"].replace(old, new)

    return _rewritten(source, target, reword, (old.encode(), new.encode()))


def unloadable_model(source: Path, target: Path) -> Path:
    """`source` whose prediction graph's tokenizer is a class that does not exist: its
    metadata is complete (check_model passes it), Rasa fails to load it."""

    def break_graph(metadata: dict) -> None:
        nodes = metadata["predict_schema"]["nodes"]
        node = next(name for name in nodes if "Tokenizer" in nodes[name]["uses"])
        nodes[node]["uses"] = MISSING_COMPONENT

    return _rewritten(source, target, break_graph, None)


def _rewritten(
    source: Path,
    target: Path,
    edit: Callable[[dict], None],
    domain_yml: Optional[Tuple[bytes, bytes]],
) -> Path:
    """`source` repacked member by member with `edit` applied to metadata.json and
    `domain_yml` (old, new) replaced once in the domain provider's domain.yml."""
    with tarfile.open(source, "r:gz") as src, tarfile.open(target, "w:gz") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name.endswith("metadata.json"):
                metadata = json.loads(data)
                edit(metadata)
                data = json.dumps(metadata).encode()
            elif domain_yml and member.name.endswith("domain_provider/domain.yml"):
                old, new = domain_yml
                assert old in data
                data = data.replace(old, new, 1)
            if data is None:
                out.addfile(member)
            else:
                member.size = len(data)
                out.addfile(member, io.BytesIO(data))
    return target
