"""`make check` (python -m bot check): each check catches a broken copy of the data at file:line.

Every test breaks one thing in a copy of data/ + domain.yml (code and held-out sets linked)
and runs the real command or the check on it; the real data passes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from actions.booking_confirm import NOTES_IN_SUMMARY
from actions.booking_requests import _REF
from actions.personal import NAME_IN_REPLY
from actions.stay_note_form import _BARE_NUMBER
from actions.stay_request import NOTE_IN_REPLY
from bot.designer.budget import fill_placeholders
from bot.designer.checks import Project, render, run_checks
from bot.launcher import child_env
from bot.settings import PROJECT_ROOT


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A checkable copy of the project: data and domain copied, the rest linked."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    for name in ("domain.yml", "config.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    for name in ("actions", "bot", "channels", "tests"):
        (root / name).symlink_to(PROJECT_ROOT / name)
    return root


def problems(root: Path) -> list:
    return render(run_checks(Project.load(root, budget=2)), root)


def line_of(path: Path, text: str) -> int:
    """1-based line of the first line of `path` containing `text`."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def insert_after(path: Path, anchor: str, new_line: str) -> int:
    """Insert `new_line` after the line containing `anchor`; its 1-based line number."""
    lines = path.read_text().splitlines(keepends=True)
    at = line_of(path, anchor)
    lines.insert(at, new_line + "\n")
    path.write_text("".join(lines))
    return at + 1


def test_the_real_data_passes_every_check() -> None:
    assert problems(PROJECT_ROOT) == []


def test_an_example_under_two_intents(copy: Path) -> None:
    faq = copy / "data" / "nlu" / "faq.yml"
    line = insert_after(faq, "      - what time do you open", "      - Hey!")  # a greet example
    [problem] = problems(copy)
    assert problem.startswith(f"data/nlu/faq.yml:{line}: example 'Hey!' of 'faq/opening_hours'")
    assert "also under 'greet' (basics.yml:" in problem


def test_a_training_example_from_the_test_set(copy: Path) -> None:
    frozen = PROJECT_ROOT / "tests" / "nlu_test" / "frozen_test.yml"
    text = "is there street parking near the hotel"
    held_line = line_of(frozen, text)
    faq = copy / "data" / "nlu" / "faq.yml"
    lines = faq.read_text().splitlines(keepends=True)
    line = line_of(faq, "- intent: faq/parking") + 2  # after its `examples: |`
    lines.insert(line - 1, f"      - {text.upper()}!\n")
    faq.write_text("".join(lines))
    assert problems(copy) == [
        f"data/nlu/faq.yml:{line}: example '{text.upper()}!' is in the held-out set "
        f"tests/nlu_test/frozen_test.yml:{held_line}; rephrase or drop it from the training data"
    ]


def test_a_short_training_example_from_the_test_set(copy: Path) -> None:
    """Short texts count too: only emoji or punctuation alone (normalised to nothing) do not."""
    frozen = PROJECT_ROOT / "tests" / "nlu_test" / "frozen_test.yml"
    held_line = line_of(frozen, "bye for now")
    basics = copy / "data" / "nlu" / "basics.yml"
    lines = basics.read_text().splitlines(keepends=True)
    line = line_of(basics, "- intent: goodbye") + 2  # after its `examples: |`
    lines.insert(line - 1, "      - Bye for now\n")
    basics.write_text("".join(lines))
    assert problems(copy) == [
        f"data/nlu/basics.yml:{line}: example 'Bye for now' is in the held-out set "
        f"tests/nlu_test/frozen_test.yml:{held_line}; rephrase or drop it from the training data"
    ]


def test_too_few_examples(copy: Path) -> None:
    (copy / "data" / "checks.yml").write_text(
        (copy / "data" / "checks.yml")
        .read_text()
        .replace("min_examples_per_faq_topic: 15", "min_examples_per_faq_topic: 45")
    )
    found = problems(copy)
    line = line_of(copy / "data" / "nlu" / "faq.yml", "- intent: faq/wifi")
    assert (
        f"data/nlu/faq.yml:{line}: intent 'faq/wifi' has 40 different examples, needs 45 "
        "(data/checks.yml); add other phrasings" in found
    )


def test_an_unused_response(copy: Path) -> None:
    line = insert_after(copy / "domain.yml", "responses:", "  utter_never_said:\n    - text: Hi")
    assert problems(copy) == [
        f"domain.yml:{line}: response 'utter_never_said' is never used "
        "(no rule, story, form or action names it)"
    ]


def test_an_over_long_response_with_placeholders_at_their_longest(copy: Path) -> None:
    domain = copy / "domain.yml"
    text = domain.read_text().replace(
        'utter_goodbye:\n    - text: "Bye for now! Text us anytime."',
        'utter_goodbye:\n    - text: "Bye {first_name}! ' + "x" * 290 + '"',
    )
    domain.write_text(text)
    line = line_of(domain, "utter_goodbye:")
    assert problems(copy) == [
        f"domain.yml:{line}: utter_goodbye takes 3 SMS segments with placeholders at their "
        "longest (316 characters); the budget is 2"
    ]
    filled, unknown = fill_placeholders("Hi {first_name} {nobody}", {"first_name": 3})
    assert (filled, unknown) == ("Hi aaa ", ["nobody"])


def say_goodbye_with(copy: Path, wording: str) -> int:
    """Make utter_goodbye say `wording` in the copy; the line of the response."""
    domain = copy / "domain.yml"
    text = domain.read_text().replace(
        'utter_goodbye:\n    - text: "Bye for now! Text us anytime."',
        f'utter_goodbye:\n    - text: "{wording}"',
    )
    domain.write_text(text)
    return line_of(domain, "utter_goodbye:")


def test_customer_text_is_priced_as_ucs2(copy: Path) -> None:
    # 100 + a 35-unit note: one GSM-7 segment with plain letters, three UCS-2 ones with emoji
    line = say_goodbye_with(copy, "Bye! " + "x" * 100 + " {note}")
    assert problems(copy) == [
        f"domain.yml:{line}: utter_goodbye takes 3 SMS segments with placeholders at their "
        "longest (141 UTF-16 units, UCS-2); the budget is 2"
    ]
    checks = copy / "data" / "checks.yml"
    checks.write_text(checks.read_text().replace("    - note  #", "    #"))
    assert problems(copy) == []  # not declared customer text: priced as GSM-7
    filled, _ = fill_placeholders("{note}|{ref}", {"note": 5, "ref": 2}, ["note"])
    assert filled == "\U0001f600\U0001f600\u00eb|aa"


def test_a_folded_placeholder_is_priced_as_gsm7(copy: Path) -> None:
    say_goodbye_with(copy, "Bye {first_name}! " + "x" * 130)
    assert problems(copy) == []  # first_name is customer text, folded to GSM-7 when filled
    filled, _ = fill_placeholders("Hi {first_name}", {"first_name": 3}, ["first_name"])
    assert filled == "Hi aaa"


def test_buttons_count_as_the_channel_sends_them(copy: Path) -> None:
    line = say_goodbye_with(copy, "x" * 300)  # fits two segments, not with "\n1) Yes  2) No"
    assert problems(copy) == []
    checks = copy / "data" / "checks.yml"
    checks.write_text(
        checks.read_text().replace(
            "  response_buttons:\n", '  response_buttons:\n    utter_goodbye: ["Yes", "No"]\n'
        )
    )
    assert problems(copy) == [
        f"domain.yml:{line}: utter_goodbye takes 3 SMS segments with placeholders at their "
        "longest (314 characters); the budget is 2"
    ]


def test_a_faq_topic_without_a_description(copy: Path) -> None:
    answers = copy / "data" / "faq_answers.yml"
    answers.write_text(answers.read_text().replace("    description: wifi\n", ""))
    line = line_of(answers, "  wifi:")
    assert problems(copy) == [
        f"data/faq_answers.yml:{line}: topic 'wifi' has no description (a non-empty text)"
    ]


def test_a_faq_topic_without_an_answer_and_an_answer_without_a_topic(copy: Path) -> None:
    answers = copy / "data" / "faq_answers.yml"
    text = answers.read_text().replace("  wifi:", "  wi_fi:")
    answers.write_text(text)
    faq_line = line_of(copy / "data" / "nlu" / "faq.yml", "- intent: faq/wifi")
    assert problems(copy) == [
        f"data/faq_answers.yml:{line_of(answers, '  wi_fi:')}: topic 'wi_fi' has no examples "
        "(faq/wi_fi in data/nlu): it is never answered",
        f"data/nlu/faq.yml:{faq_line}: FAQ topic 'wifi' has no answer and description in "
        "data/faq_answers.yml",
    ]


@pytest.mark.slow
def test_the_check_command_fails_on_a_contradicting_rule(
    copy: Path,
) -> None:
    rules = copy / "data" / "rules" / "basics.yml"
    rules.write_text(
        rules.read_text()
        + "\n  - rule: menu answered twice\n    steps:\n      - intent: menu\n"
        + "      - action: utter_goodbye\n"
    )
    line = line_of(rules, "- rule: menu answered twice")
    command = [sys.executable, "-m", "bot", "check", "--root", str(copy)]
    result = subprocess.run(command, env=child_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"data/rules/basics.yml:{line}: rule contradiction:" in result.stdout
    assert "'menu answered twice'" in result.stdout


def check_command(root: Path) -> str:
    """`python -m bot check --root` on the copy; its output (it must fail)."""
    command = [sys.executable, "-m", "bot", "check", "--root", str(root)]
    result = subprocess.run(command, env=child_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
def test_the_check_command_fails_on_a_story_contradicting_another_story(copy: Path) -> None:
    stories = copy / "data" / "stories" / "conversations.yml"
    stories.write_text(
        stories.read_text()
        + "\n  - story: order question followed by a goodbye\n    steps:\n"
        + "      - intent: track_order\n      - action: action_track_order\n"
        + "      - intent: human_handoff\n      - action: utter_goodbye\n"
    )
    output = check_command(copy)
    line = line_of(stories, "- story: order question followed by a person")
    [conflict] = [row for row in output.splitlines() if "Story structure conflict" in row]
    assert conflict == (
        f"data/stories/conversations.yml:{line}: Story structure conflict after intent "
        "'human_handoff': action_handoff predicted in 'order question followed by a person' "
        "utter_goodbye predicted in 'order question followed by a goodbye'"
    ), output


@pytest.mark.slow
def test_the_check_command_fails_on_a_story_contradicting_a_rule(copy: Path) -> None:
    stories = copy / "data" / "stories" / "conversations.yml"
    stories.write_text(
        stories.read_text()
        + "\n  - story: greet then the menu\n    steps:\n"
        + "      - intent: greet\n      - action: action_greet\n"
        + "      - intent: menu\n      - action: utter_goodbye\n"
    )
    output = check_command(copy)
    line = line_of(stories, "- story: greet then the menu")
    assert output.splitlines()[-2] == (
        f"data/stories/conversations.yml:{line}: rule contradiction: the prediction of the "
        "action 'utter_goodbye' in story 'greet then the menu' is contradicting with rule(s) "
        "'menu' which predicted action 'utter_menu'."
    ), output
    assert output.splitlines()[-1].startswith("check: 1 problem(s)"), output


@pytest.mark.slow
def test_the_check_command_fails_on_intents_and_responses_missing_from_the_domain(
    copy: Path,
) -> None:
    basics = copy / "data" / "nlu" / "basics.yml"
    words = "sauna steam pool massage facial jacuzzi gym yoga towels robes sunbeds manicure"
    examples = "".join(f"      - is there a {w}\n      - {w} hours?\n" for w in words.split())
    basics.write_text(basics.read_text() + f"\n  - intent: ask_spa\n    examples: |\n{examples}")
    stories = copy / "data" / "stories" / "conversations.yml"
    stories.write_text(
        stories.read_text()
        + "\n  - story: spa hours\n    steps:\n      - intent: greet\n"
        + "      - action: action_greet\n      - intent: ask_sauna\n"
        + "      - action: utter_spa_hours\n"
    )
    command = [sys.executable, "-m", "bot", "check", "--root", str(copy)]
    result = subprocess.run(command, env=child_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    found = [line for line in result.stdout.splitlines() if ": rasa: " in line]
    assert found == [
        f"data/nlu/basics.yml:{line_of(basics, '- intent: ask_spa')}: rasa: There is a message "
        "in the training data labeled with intent 'ask_spa'. This intent is not listed in your "
        "domain. You should need to add that intent to your domain file!",
        f"data/stories/conversations.yml:{line_of(stories, '- intent: ask_sauna')}: rasa: The "
        "intent 'ask_sauna' is used in your stories, but it is not listed in the domain file. "
        "You should add it to your domain file!",
        f"data/stories/conversations.yml:{line_of(stories, '- action: utter_spa_hours')}: rasa: "
        "The action 'utter_spa_hours' is used in the stories, but is not a valid utterance "
        "action. Please make sure the action is listed in your domain and there is a template "
        "defined with its name.",
    ], result.stdout
    assert result.stdout.splitlines()[-1].startswith("check: 3 problem(s)"), result.stdout


def test_declared_lengths_cover_what_the_actions_fill() -> None:
    config = Project.load(PROJECT_ROOT, budget=2).config
    lengths = config["placeholder_max_length"]
    assert lengths["first_name"] >= NAME_IN_REPLY and lengths["note"] >= NOTE_IN_REPLY
    fixed = len('Sep 30-Oct 30 (999 nights), 99 guests, accessible room, notes: ""')
    assert lengths["summary"] >= fixed + NOTES_IN_SUMMARY
    assert {"first_name", "note", "summary"} <= set(config["customer_text"])
    # refs the actions echo: "R" + the digits their patterns accept (a typed ref, a bare
    # number), e.g. utter_request_not_found's "R{ref}"
    assert lengths["ref"] >= 1 + max(longest_digits(_REF, "R"), longest_digits(_BARE_NUMBER, ""))


def longest_digits(pattern: re.Pattern, prefix: str) -> int:
    """The most digits `pattern` captures whole after `prefix` (it accepts up to this many)."""
    accepted = [
        count
        for count in range(1, 30)
        if (found := pattern.search(prefix + "9" * count)) and found.group(1) == "9" * count
    ]
    assert accepted and accepted == list(range(1, accepted[-1] + 1))
    return accepted[-1]
