"""The CPU split between the Rasa server and the rest of the stack (bot/cpus.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot import cpus


def test_cpu_lists_read_and_written_as_taskset_and_proc_do() -> None:
    assert cpus.parse_cpu_list("0-2,5") == {0, 1, 2, 5}
    assert cpus.parse_cpu_list(" 3 ") == {3}
    assert cpus.format_cpu_list({0, 1, 2, 5}) == "0-2,5"
    assert cpus.format_cpu_list({7}) == "7"
    for spec in ("0-2,5", "1", "0,2,4-6"):
        assert cpus.format_cpu_list(cpus.parse_cpu_list(spec)) == spec
    for bad in ("", "a", "1-", "3-1", "0;1", "-1"):
        with pytest.raises(ValueError):
            cpus.parse_cpu_list(bad)


def test_the_assistant_gets_the_first_cpu_when_there_are_two_or_more() -> None:
    assert cpus.assistant_cpus({}, {0, 1}) == {0}
    assert cpus.other_cpus({}, {0, 1}) == {1}
    assert cpus.assistant_cpus({}, {2, 3, 4, 5}) == {2}
    assert cpus.other_cpus({}, {2, 3, 4, 5}) == {3, 4, 5}
    assert cpus.assistant_cpus({}, {0}) is None  # one CPU: nothing to split
    assert cpus.other_cpus({}, {0}) is None


def test_no_split_by_default_with_postgresql() -> None:
    postgres = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test"}
    assert cpus.assistant_cpus(postgres, {0, 1}) is None
    assert cpus.other_cpus(postgres, {0, 1}) is None
    assert cpus.assistant_cpus({**postgres, "ASSISTANT_CPUS": "0"}, {0, 1}) == {0}
    assert cpus.assistant_cpus({"DATABASE_URL": "sqlite:///var/x.db"}, {0, 1}) == {0}
    assert cpus.split({3}) is None and cpus.split({3, 5}) == {3}


def test_assistant_cpus_setting() -> None:
    four = {0, 1, 2, 3}
    assert cpus.assistant_cpus({"ASSISTANT_CPUS": "2-3"}, four) == {2, 3}
    assert cpus.other_cpus({"ASSISTANT_CPUS": "2-3"}, four) == {0, 1}
    assert cpus.assistant_cpus({"ASSISTANT_CPUS": "none"}, four) is None
    assert cpus.other_cpus({"ASSISTANT_CPUS": "NONE"}, four) is None
    for bad in ("0-3", "4", "x"):  # all of them, one not here, not a list
        with pytest.raises(ValueError):
            cpus.assistant_cpus({"ASSISTANT_CPUS": bad}, four)


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cpus", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


def test_command_prints_lists_for_taskset() -> None:
    usable = cpus.available()
    assistant, others = run_cli("assistant"), run_cli("others")
    assert assistant.returncode == others.returncode == 0
    if len(usable) >= 2:
        assert cpus.parse_cpu_list(assistant.stdout) == {min(usable)}
        assert cpus.parse_cpu_list(others.stdout) == usable - {min(usable)}
    else:
        assert assistant.stdout.strip() == others.stdout.strip() == ""
    assert run_cli("assistant", ASSISTANT_CPUS="none").stdout.strip() == ""
    postgres = run_cli("assistant", DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test")
    assert postgres.returncode == 0 and postgres.stdout.strip() == ""
    refused = run_cli("others", ASSISTANT_CPUS="99")
    assert refused.returncode == 2 and "ASSISTANT_CPUS=99" in refused.stderr
    assert run_cli("everything").returncode == 2


def test_pin_before_exec_pins_the_child_and_its_threads() -> None:
    usable = cpus.available()
    target = {max(usable)}
    script = (
        "import os, threading\n"
        "seen = []\n"
        "t = threading.Thread(target=lambda: seen.append(os.sched_getaffinity(0)))\n"
        "t.start(); t.join()\n"
        "print(sorted(os.sched_getaffinity(0)), sorted(seen[0]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        preexec_fn=cpus.pin_before_exec(target),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == f"{sorted(target)} {sorted(target)}"
    assert cpus.pin_before_exec(None) is None
