"""The gitignore matcher (``preflight.inputs.ignore``) against ``pathspec``'s ``GitIgnoreSpec`` (a test
dependency only): for generated ``.gitignore`` files and paths, a file is ignored exactly when pathspec
says so. The walk prunes an ignored folder, so a file counts as ignored when one of its folders is."""

from __future__ import annotations

import pathspec
from hypothesis import given, settings
from hypothesis import strategies as st

from preflight.inputs.ignore import Ignores, compile_line, read_patterns

BASE = "/repo"
SEGMENTS = st.sampled_from(["a", "b", "ab", "*", "?", "a*", "*b", "**", "[ab]", "[!a]", "[a-b]b", "x", "a?a", "b*a"])
NAMES = st.sampled_from(["a", "b", "ab", "ba", "bb", "x", "ax"])


@st.composite
def pattern_lines(draw):
    body = "/".join(draw(st.lists(SEGMENTS, min_size=1, max_size=3)))
    if body.strip("/*") == "":  # "**" or "*/**" alone: everything; fine, but keep some variety
        body = draw(st.sampled_from([body, "a"]))
    # "x/**/" (folders inside x only) is left to the git test below: pathspec also matches the files in x
    trailing = "/" if draw(st.booleans()) and not body.endswith("**") else ""
    return ("!" if draw(st.booleans()) else "") + ("/" if draw(st.booleans()) else "") + body + trailing


def ignored(ig: Ignores, rel: str) -> bool:
    parts = rel.split("/")
    folders = ["/".join(parts[:i]) for i in range(1, len(parts))]
    return any(ig.ignored(f"{BASE}/{f}", True) for f in folders) or ig.ignored(f"{BASE}/{rel}", False)


@settings(max_examples=400, deadline=None)
@given(st.lists(pattern_lines(), min_size=1, max_size=4), st.lists(NAMES, min_size=1, max_size=3))
def test_matches_pathspec_gitignore(lines, parts):
    negated_folder = any(line.startswith("!") for line in lines)
    rel = "/".join(parts)
    ours = ignored(Ignores(read_patterns("\n".join(lines), BASE)), rel)
    theirs = pathspec.GitIgnoreSpec.from_lines(lines).match_file(rel)
    if negated_folder and ours != theirs:
        # git cannot re-include a file whose folder is excluded; pathspec re-includes it. Only that differs.
        folders = ["/".join(parts[:i]) for i in range(1, len(parts))]
        ig = Ignores(read_patterns("\n".join(lines), BASE))
        assert any(ig.ignored(f"{BASE}/{f}", True) for f in folders) and not theirs
        return
    assert ours == theirs, (lines, rel)


def test_examples_of_each_rule():
    def check(text: str, rel: str, is_dir: bool = False) -> bool:
        return Ignores(read_patterns(text, BASE)).ignored(f"{BASE}/{rel}", is_dir)

    assert check("*.csv", "deep/in/x.csv") and not check("/x.csv", "deep/x.csv") and check("/x.csv", "x.csv")
    assert check("logs/", "a/logs", is_dir=True) and not check("logs/", "a/logs")  # folders only
    assert check("a/**/b", "a/b") and check("a/**/b", "a/x/y/b") and not check("a/**/b", "b")
    assert check("**/m.csv", "q/m.csv") and check("d/**", "d/e/f") and not check("d/**", "d", is_dir=True)
    assert check("*.csv\n!keep.csv", "x.csv") and not check("*.csv\n!keep.csv", "keep.csv")
    assert check("[!a]x", "bx") and not check("[!a]x", "ax") and check("f?", "f1") and not check("f?", "f/")
    assert check("\\#hash", "#hash") and not check("#hash", "#hash") and check("\\!bang", "!bang")
    assert check("trail\\ ", "trail ") and check("sp  ", "sp")
    assert compile_line("") is None and compile_line("# a comment") is None and compile_line("/") is None


GIT_CASES = {  # .gitignore -> {path: ignored}, as `git check-ignore` answers (recorded and rerun below)
    "a/a\nb/a/**/\n": {"b/a/a": False, "b/a/d/f": True, "a/a": True, "c/a/a": False},
    "*.csv\n!keep.csv\nlogs/\n!logs/x.csv\n": {"x.csv": True, "keep.csv": False, "logs/x.csv": True,
                                                 "d/keep.csv": False},
    "/top\n**/deep\nm?d\n[!a]z\n": {"top": True, "s/top": False, "s/t/deep": True, "mid": True, "az": False,
                                        "bz": True},
}


def test_against_git_itself(tmp_path):
    """The cases pathspec and git disagree on (``x/**/``; re-including a file in an excluded folder),
    answered by ``git check-ignore`` on real files."""
    import subprocess

    for n, (text, expected) in enumerate(GIT_CASES.items()):
        repo = tmp_path / str(n)
        repo.mkdir()
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (repo / ".gitignore").write_text(text)
        for rel in expected:
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text("")
        out = subprocess.run(["git", "check-ignore", "--stdin"], cwd=repo, input="\n".join(expected), text=True,
                             capture_output=True).stdout.split()
        git = {rel: rel in out for rel in expected}
        assert git == expected, text
        ig = Ignores(read_patterns(text, BASE))
        assert {rel: ignored(ig, rel) for rel in expected} == expected, text


def test_a_gitignore_applies_only_below_its_folder():
    ig = Ignores(read_patterns("*.csv", f"{BASE}/sub"))
    assert ig.ignored(f"{BASE}/sub/x/y.csv", False) and not ig.ignored(f"{BASE}/y.csv", False)
