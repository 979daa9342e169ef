"""The training command: `rasa`, with bot/rasa_ext/train_speedups.py installed first.

    python -m bot.rasa_ext.train train --skip-validation --fixed-model-name sms-bot --out models

Takes the same arguments as `rasa`; `make train` trains this way. The model is the same as
a bare `rasa train` gives (same data, same fingerprints, same cache), only sooner.
"""

from __future__ import annotations

from bot.rasa_ext import train_speedups


def main() -> None:
    """Install the training speed-ups, then run Rasa's command line."""
    train_speedups.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
