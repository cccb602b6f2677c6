#!/usr/bin/env python3
"""Compile-fail check: FILE must fail to compile with an error matching its
`// expect-error: REGEX` line, and must compile with -DSEPAL_POSITIVE_CONTROL
(the positive control proves the failure is the one intended).

usage: check.py FILE -- COMPILER [FLAGS...]
"""
import re
import subprocess
import sys


def main() -> int:
    sep = sys.argv.index("--")
    path, compiler = sys.argv[1], sys.argv[sep + 1:]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^// expect-error: (.+)$", text, re.M)
    if not m:
        print(f"{path}: no '// expect-error:' line")
        return 1
    pattern = m.group(1).strip()
    base = compiler + ["-fsyntax-only", "-Werror=unused-result", path]

    control = subprocess.run(base[:-1] + ["-DSEPAL_POSITIVE_CONTROL", path], capture_output=True, text=True)
    if control.returncode != 0:
        print(f"positive control does not compile:\n{control.stderr[-4000:]}")
        return 1
    bad = subprocess.run(base, capture_output=True, text=True)
    if bad.returncode == 0:
        print("compiled, but must not")
        return 1
    if not re.search(pattern, bad.stderr):
        print(f"failed to compile, but without /{pattern}/:\n{bad.stderr[-4000:]}")
        return 1
    print(f"fails as intended (/{pattern}/); positive control compiles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
