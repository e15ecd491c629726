#!/usr/bin/env python3
"""Checks of the tree's shape that CTest runs (tests/CMakeLists.txt):

  check_tree.py layers ROOT SIM_LINK_CLOSURE
      Every #include between code folders points down the layer order of the README's drawing
      (core < energy < neurons < attention < model < training | sim < tasks < scenarios < serve < tools);
      training/ and sim/ never include each other, and SIM_LINK_CLOSURE (the libraries wtasim_sim
      links, transitively, as CMake computed them) holds no wtasim_training.
  check_tree.py citations ROOT
      Nothing in the repository cites the external specification or style guide (the project's own
      statement is docs/model.md), and no Markdown link or source comment links outside the repository.
Prints one line per violation and exits 1 when there is any.
"""
import os
import re
import subprocess
import sys

LAYERS = {"core": 0, "energy": 1, "neurons": 2, "attention": 3, "model": 4, "training": 5, "sim": 5,
          "tasks": 6, "scenarios": 7, "serve": 8, "tools": 9}
SOURCE_EXT = (".hpp", ".cpp", ".cu", ".cuh", ".h")


def tracked(root):
    out = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, text=True, check=True).stdout
    return [f for f in out.splitlines() if os.path.isfile(os.path.join(root, f))]


def check_layers(root, sim_closure):
    problems = []
    include = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
    for f in tracked(root):
        top = f.split("/")[0]
        if top not in LAYERS or not f.endswith(SOURCE_EXT):
            continue
        with open(os.path.join(root, f), encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                m = include.match(line)
                if not m or m.group(1) not in LAYERS or m.group(1) == top:
                    continue
                to = m.group(1)
                if LAYERS[to] >= LAYERS[top]:
                    problems.append(f"{f}:{n}: {top}/ includes {to}/ — dependencies point down: "
                                    f"core < energy < neurons < attention < model < training | sim < tasks < "
                                    f"scenarios < serve < tools")
    libs = [x for x in re.split(r"[;\s]+", sim_closure) if x]
    if not libs:
        problems.append("wtasim_sim: no link closure given (the CMake side of this check is broken)")
    if "wtasim_training" in libs:
        problems.append("wtasim_sim links wtasim_training (closure: " + ", ".join(libs) + ")")
    return problems


def check_citations(root):
    problems = []
    # A document a clone does not have: an upper-case NAME.md, or a "NAME §N" section reference, with no NAME.md
    # in the tree, or anything in a folder that sits beside the checkout ("../<sibling>/").
    files = tracked(root)
    have = {os.path.basename(f) for f in files}
    named_doc = re.compile(r"\b([A-Z][A-Z0-9_-]*\.md)\b")
    section_ref = re.compile(r"\b([A-Z][A-Z0-9_-]{2,})\s*§")
    parent = os.path.dirname(os.path.abspath(root))
    siblings = [d for d in sorted(os.listdir(parent)) if os.path.isdir(os.path.join(parent, d))
                and os.path.abspath(os.path.join(parent, d)) != os.path.abspath(root)]
    beside = re.compile(r"\.\./(" + "|".join(map(re.escape, siblings)) + r")/") if siblings else re.compile(r"(?!x)x")

    def cites_outside(line):
        return (any(d not in have for d in named_doc.findall(line)) or
                any(n + ".md" not in have for n in section_ref.findall(line)) or bool(beside.search(line)))
    md_link = re.compile(r"\]\(([^)\s]+)\)")
    url = re.compile(r"\b(https?|ftp)://")
    me = os.path.relpath(__file__, root) if os.path.isabs(__file__) else __file__
    for f in files:
        path = os.path.join(root, f)
        if f.endswith((".h5", ".png", ".jpg")) or os.path.normpath(f) == os.path.normpath(me):
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                lines = fh.readlines()
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(lines, 1):
            if cites_outside(line):
                problems.append(f"{f}:{n}: cites a document that is not in the repository; cite docs/model.md §N")
            if f.endswith(".md"):
                for target in md_link.findall(line):
                    if url.match(target) or target.startswith("mailto:"):
                        problems.append(f"{f}:{n}: links outside the repository: {target}")
                        continue
                    resolved = os.path.normpath(os.path.join(os.path.dirname(f), target.split("#")[0]))
                    if resolved.startswith(".."):
                        problems.append(f"{f}:{n}: links outside the repository: {target}")
                    elif target.split("#")[0] and not os.path.exists(os.path.join(root, resolved)):
                        problems.append(f"{f}:{n}: links to a file that is not in the repository: {target}")
            elif f.endswith(SOURCE_EXT + (".py", ".sh", ".txt", ".cmake")):
                comment = line.split("//", 1)[1] if "//" in line and f.endswith(SOURCE_EXT) else (
                    line.split("#", 1)[1] if "#" in line and not f.endswith(SOURCE_EXT) else "")
                if url.search(comment):
                    problems.append(f"{f}:{n}: a comment links outside the repository")
    return problems


def main(argv):
    if len(argv) >= 3 and argv[1] == "layers":
        problems = check_layers(argv[2], argv[3] if len(argv) > 3 else "")
    elif len(argv) == 3 and argv[1] == "citations":
        problems = check_citations(argv[2])
    else:
        print(__doc__)
        return 2
    for p in problems:
        print(p)
    print(f"{argv[1]}: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
