"""What the NLU's sentence encoder costs: train time, parse time and server memory.

Usage:
    .venv/bin/python -m bench.nlu_cost              # ~5 min on 2 cores
    .venv/bin/python -m bench.nlu_cost --texts 400 --json /tmp/nlu_cost.json

Two whole-project models in the same run: `config.yml` ("encoder"), and the same config
without `SentenceEncoderFeaturizer` ("sparse", the pipeline without the encoder). For each:
- train: `rasa train` (NLU and core, data validation included) in a subprocess with an
  empty Rasa cache, the two configs in turns, as `make train` does on a fresh clone;
- parse: `Agent.parse_message` (the whole NLU pipeline, one text at a time, as the server
  does) of the dev-set texts, the two models taking turns on each text, so that a busy
  machine slows both alike;
- memory: VmRSS of a real `rasa run --enable-api` server with the model loaded, after one
  `POST /model/parse`.
Budgets: parse mean <= 2x sparse, server RSS <= 900 MB, train <= 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bench.encoders import ENCODER_COMPONENT, percentile

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ("sparse", "encoder")
PARSE_RATIO_BUDGET = 2.0
RSS_BUDGET_MB = 900.0
TRAIN_BUDGET_S = 60.0


def write_configs(out: Path) -> Dict[str, Path]:
    """config.yml as it is, and without the sentence encoder."""
    import yaml

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    sparse = {
        **config,
        "pipeline": [s for s in config["pipeline"] if s.get("name") != ENCODER_COMPONENT],
    }
    paths = {"encoder": out / "encoder.yml", "sparse": out / "sparse.yml"}
    paths["encoder"].write_text(yaml.safe_dump(config, sort_keys=False))
    paths["sparse"].write_text(yaml.safe_dump(sparse, sort_keys=False))
    return paths


def _env(extra: Dict[str, str]) -> Dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def train(name: str, config: Path, out: Path) -> Tuple[float, float]:
    """(wall, CPU) seconds of a whole-project `rasa train` with an empty cache.

    CPU time (user + system of the process and its children) hardly changes when other
    work shares the cores, so it shows what the wall time would be on a quiet machine.
    """
    cache = out / f"cache-{name}"
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(config),
        "--out", str(out),
        "--fixed-model-name", name,
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=_env({"RASA_CACHE_DIRECTORY": str(cache)}),
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0 or not (out / f"{name}.tar.gz").exists():
        raise RuntimeError(f"rasa train ({name}) failed:\n{result.stderr[-3000:]}")
    return seconds, cpu


async def parse_times(models: Dict[str, Path], texts: Sequence[str]) -> Dict[str, List[float]]:
    """ms per `Agent.parse_message`, models in turns on each text."""
    from bench.encoders import evaluate_fold

    timed = await evaluate_fold(models, texts, len(texts))
    return {name: times for name, (_, times) in timed.items()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return (
        next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        / 1024
    )


def server_rss(model: Path, timeout: float = 240.0) -> float:
    """VmRSS (MB) of `rasa run --enable-api` (bot.rasa_ext.server) after one parse over HTTP."""
    port = _free_port()
    command = [
        sys.executable, "-m", "bot.rasa_ext.server", "run", "--enable-api",
        "--model", str(model), "--port", str(port), "--interface", "127.0.0.1",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="nlu-cost-server-") as cwd:  # no endpoints.yml
        server = subprocess.Popen(
            command, cwd=cwd, env=_env({}), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + timeout
            body = json.dumps({"text": "where is my order"}).encode()
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"rasa run exited:\n{server.stderr.read()[-3000:]!r}")
                try:
                    request = urllib.request.Request(
                        f"http://127.0.0.1:{port}/model/parse", data=body, method="POST"
                    )
                    with urllib.request.urlopen(request, timeout=10) as response:
                        if json.load(response).get("intent", {}).get("name"):
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("rasa run did not answer /model/parse in time")
                time.sleep(1.0)
            return _rss_mb(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def dev_texts(limit: int) -> List[str]:
    """Texts to time: the dev set's, spread evenly (any realistic SMS would do)."""
    from bench.nlu_eval import DEV_SET, load_examples

    texts = [e.text for e in load_examples(DEV_SET)]
    step = max(1, len(texts) // max(1, limit))
    return texts[::step][:limit]


def run(texts: int) -> Dict[str, Any]:
    """All figures of both configs."""
    from bench.encoders import _quiet

    with tempfile.TemporaryDirectory(prefix="nlu-cost-") as tmp:
        out = Path(tmp)
        configs = write_configs(out)
        trained = {name: train(name, configs[name], out) for name in CONFIGS}
        models = {name: out / f"{name}.tar.gz" for name in CONFIGS}
        rss = {name: server_rss(models[name]) for name in CONFIGS}
        _quiet()
        times = asyncio.run(parse_times(models, dev_texts(texts)))
    figures = {
        name: {
            "train_s": trained[name][0],
            "train_cpu_s": trained[name][1],
            "parse_mean_ms": statistics.mean(times[name]),
            "parse_p95_ms": percentile(times[name], 95),
            "server_rss_mb": rss[name],
        }
        for name in CONFIGS
    }
    ratio = figures["encoder"]["parse_mean_ms"] / figures["sparse"]["parse_mean_ms"]
    return {"configs": figures, "parse_ratio": ratio, "texts": len(times["encoder"])}


def report(result: Dict[str, Any]) -> str:
    """A markdown table and the budgets."""
    sparse, encoder = result["configs"]["sparse"], result["configs"]["encoder"]
    lines = [
        "| | sparse (before) | encoder (`config.yml`) | budget |",
        "|---|---:|---:|---:|",
        f"| NLU parse mean / p95 ({result['texts']} dev texts, in turns) "
        f"| {sparse['parse_mean_ms']:.1f} / {sparse['parse_p95_ms']:.1f} ms "
        f"| {encoder['parse_mean_ms']:.1f} / {encoder['parse_p95_ms']:.1f} ms "
        f"({result['parse_ratio']:.2f}x) | <= {PARSE_RATIO_BUDGET:g}x |",
        f"| `rasa run` server RSS after a parse | {sparse['server_rss_mb']:.0f} MB "
        f"| {encoder['server_rss_mb']:.0f} MB | <= {RSS_BUDGET_MB:.0f} MB |",
        f"| `rasa train`, empty cache: wall (CPU) | {sparse['train_s']:.0f} s "
        f"({sparse['train_cpu_s']:.0f} s) | {encoder['train_s']:.0f} s "
        f"({encoder['train_cpu_s']:.0f} s) | <= {TRAIN_BUDGET_S:.0f} s |",
        f"| load average (1 min) at the end | {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores | | |",
    ]
    missed = [
        what
        for what, ok in (
            ("parse ratio", result["parse_ratio"] <= PARSE_RATIO_BUDGET),
            ("server RSS", encoder["server_rss_mb"] <= RSS_BUDGET_MB),
            ("train time", encoder["train_s"] <= TRAIN_BUDGET_S),
        )
        if not ok
    ]
    lines.append("")
    lines.append("budgets: " + ("ALL MET" if not missed else "MISSED " + ", ".join(missed)))
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=400, help="dev texts timed per model")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    result = run(args.texts)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
