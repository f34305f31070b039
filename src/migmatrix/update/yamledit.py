"""Apply a proposal to matrix.yaml's text, changing nothing the edit does not touch.

The edit is made on ruamel.yaml's round-trip document (comments, key order,
quotes and flow style kept), in the file's own indentation. ruamel.yaml still
loses a few comments where nobody edits (a comment line between the items of a
list of flow mappings, in this repository's exclude list), so the edit is
replayed onto the original text: the lines a plain round trip gives are matched
to the original lines, and only the lines the edit changed in the round-tripped
text are put into the original at the matching places. Every other byte stays.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from migmatrix.errors import UsageError
from migmatrix.update.propose import NewRule


def edit_text(text: str, added: Sequence[NewRule], removed: Sequence[int], where: str) -> str:
    """`text` with the rules at `removed` (0-based) dropped and `added` appended to the rules."""
    if not added and not removed:
        return text
    yaml = _yaml(text)
    plain = _dump(yaml, yaml.load(text))
    doc = yaml.load(text)
    rules = _rules(doc, where)
    for index in sorted(removed, reverse=True):
        del rules[index]
    for rule in added:
        rules.append(_mapping(rule))
        if rule.comment:
            rules.yaml_set_comment_before_after_key(len(rules) - 1, before=rule.comment, indent=4)
    return splice(text, plain, _dump(yaml, doc))


def splice(original: str, plain: str, edited: str) -> str:
    """`original` with the changes that turn `plain` (its round trip) into `edited`."""
    orig, rt, new = (s.splitlines(keepends=True) for s in (original, plain, edited))
    to_orig: dict[int, int] = {}
    for block in difflib.SequenceMatcher(None, rt, orig, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            to_orig[block.a + k] = block.b + k
    out = list(orig)
    ops = difflib.SequenceMatcher(None, rt, new, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(ops):
        if tag == "equal":
            continue
        start = _place(i1, to_orig, len(orig))
        end = start + (i2 - i1)
        if i2 > i1 and any(to_orig.get(i) != start + (i - i1) for i in range(i1, i2)):
            msg = "cannot place the edit in the original text; edit matrix.yaml by hand"
            raise UsageError(msg)
        out[start:end] = new[j1:j2]
    return "".join(out)


def _place(index: int, to_orig: dict[int, int], size: int) -> int:
    if index in to_orig:
        return to_orig[index]
    before = [to_orig[i] for i in to_orig if i < index]
    return max(before) + 1 if before else (0 if index == 0 else size)


def _yaml(text: str) -> YAML:
    """A round-trip YAML set to the file's own indentation: of a few usual layouts (and
    ruamel.yaml's guess), the one whose round trip keeps the most lines as they are."""
    _, guessed, guessed_offset = load_yaml_guess_indent(text)
    layouts = {(2, 2, 0), (2, 4, 2), (4, 4, 0), (4, 6, 2)}
    if guessed:
        layouts.add((2, guessed, guessed_offset or 0))
        layouts.add((guessed, guessed, guessed_offset or 0))
    lines = set(text.splitlines())
    best: tuple[int, YAML] | None = None
    for mapping, sequence, offset in sorted(layouts):
        yaml = YAML()
        yaml.preserve_quotes = True
        yaml.width = 4096  # never re-wrap a long line
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        kept = sum(line in lines for line in _dump(yaml, yaml.load(text)).splitlines())
        if best is None or kept > best[0]:
            best = (kept, yaml)
    return best[1] if best is not None else YAML()


def _dump(yaml: YAML, doc: Any) -> str:
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _rules(doc: Any, where: str) -> CommentedSeq:
    if not isinstance(doc, CommentedMap):
        msg = f"{where}: the file is not a mapping; it is no matrix.yaml"
        raise UsageError(msg)
    expect = doc.get("expect")
    if expect is None:
        expect = doc["expect"] = CommentedMap()
        expect["default"] = "pass"
    if not isinstance(expect, CommentedMap):
        msg = f"{where}: `expect` is not a mapping"
        raise UsageError(msg)
    rules = expect.get("rules")
    if rules is None:
        rules = expect["rules"] = CommentedSeq()
    if not isinstance(rules, CommentedSeq):
        msg = f"{where}: `expect.rules` is not a list"
        raise UsageError(msg)
    return rules


def _mapping(rule: NewRule) -> CommentedMap:
    out = CommentedMap()
    for key in ("phase", "adapter", "env", "python"):
        value = getattr(rule, key)
        if value is not None:
            # Quoted where YAML would read another type (3.10) or a glob reads oddly.
            plain = key != "python" and value.replace("-", "").replace("_", "").isalnum()
            out[key] = value if plain else DoubleQuotedScalarString(value)
    out["test"] = DoubleQuotedScalarString(rule.test)
    for key in ("requires", "unless"):
        features = getattr(rule, key)
        if features:
            seq = CommentedSeq(features)
            seq.fa.set_flow_style()
            out[key] = seq
    out["outcome"] = rule.outcome.value
    if rule.raises:
        out["raises"] = rule.raises
    if rule.match:
        out["match"] = DoubleQuotedScalarString(rule.match)
    return out
