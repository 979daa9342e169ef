"""Model variants for reload tests and benchmarks: the same model with one response reworded.

A response lives in the model twice (metadata.json's domain, which the server answers
from, and the domain provider's domain.yml); both are rewritten and the tarball repacked
member by member, so the variant loads like a model `rasa train` wrote, in a second.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path


def reworded_model(source: Path, target: Path, response: str, old: str, new: str) -> Path:
    """`source` with `old` replaced by `new` in the first text of `response`."""
    with tarfile.open(source, "r:gz") as src, tarfile.open(target, "w:gz") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name.endswith("metadata.json"):
                metadata = json.loads(data)
                first = metadata["domain"]["responses"][response][0]
                assert old in first["text"], first
                first["text"] = first["text"].replace(old, new)
                data = json.dumps(metadata).encode()
            elif member.name.endswith("domain_provider/domain.yml"):
                assert old.encode() in data
                data = data.replace(old.encode(), new.encode(), 1)
            if data is None:
                out.addfile(member)
            else:
                member.size = len(data)
                out.addfile(member, io.BytesIO(data))
    return target
