"""What a `rasa train --dry-run` of the project sees, as JSON on stdout (for the tests).

    python -m tests.train_probe bare|patched

Run in the project root, with RASA_CACHE_DIRECTORY pointing at an empty directory. Reports
how often the NLU files were read, the NLU training data the train graph was given (its
fingerprint and every example), and the fingerprint key of every node the fingerprint run
computes from the data itself (its inputs are the providers' outputs, not other nodes'
cache statuses): the keys Rasa's cache is looked up with.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any, Dict, List


def main() -> None:
    """Probe one dry run, with or without bot/rasa_ext/train_speedups.py."""
    from bot.rasa_ext import train_speedups

    if sys.argv[1] == "patched":
        train_speedups.install()
    import rasa.engine.training.fingerprinting as fingerprinting
    import rasa.model_training
    from rasa.engine.training.components import FingerprintStatus
    from rasa.graph_components.providers.nlu_training_data_provider import (
        NLUTrainingDataProvider,
    )
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.shared.importers.rasa import RasaFileImporter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    reads: List[Any] = []
    seen: List[Dict[str, Any]] = []
    keys: List[List[str]] = []

    read = RasaFileImporter.get_nlu_data

    def counted_read(self: RasaFileImporter, language: Any = "en") -> Any:
        reads.append(language)
        return read(self, language)

    provide = NLUTrainingDataProvider.provide

    def recorded_provide(self: NLUTrainingDataProvider, importer: Any) -> Any:
        data = provide(self, importer)
        examples = sorted(
            json.dumps(example.as_dict(), sort_keys=True, default=str)
            for example in data.training_examples
        )
        seen.append(
            {
                "fingerprint": data.fingerprint(),
                "count": len(examples),
                "examples": hashlib.sha256("\n".join(examples).encode()).hexdigest(),
                "intents": sorted(data.intents),
            }
        )
        return data

    # Rasa checks the provider's type hints: real classes, not this module's strings
    recorded_provide.__annotations__ = {"importer": TrainingDataImporter, "return": TrainingData}
    calculate = fingerprinting.calculate_fingerprint_key

    def recorded_key(graph_component_class: Any, config: Any, inputs: Dict[str, Any]) -> str:
        key = calculate(graph_component_class, config, inputs)
        if not any(isinstance(value, FingerprintStatus) for value in inputs.values()):
            keys.append([graph_component_class.__name__, key])
        return key

    RasaFileImporter.get_nlu_data = counted_read
    NLUTrainingDataProvider.provide = recorded_provide
    fingerprinting.calculate_fingerprint_key = recorded_key
    rasa.model_training.train("domain.yml", "config.yml", ["data"], dry_run=True)
    print(json.dumps({"reads": len(reads), "seen": seen, "keys": sorted(keys)}))


if __name__ == "__main__":
    main()
