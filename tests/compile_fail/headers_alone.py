#!/usr/bin/env python3
"""Every public header compiles as the only include of a translation unit
(include what you use; tools/compile-times measures the same units).

    headers_alone.py INCLUDE_DIR -- COMPILER ARGS...
"""
import pathlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor


def main() -> int:
    sep = sys.argv.index("--")
    include = pathlib.Path(sys.argv[1])
    cmd = sys.argv[sep + 1:]
    headers = sorted(str(p.relative_to(include)) for p in include.glob("sepal/**/*.hpp")
                     if "detail" not in p.parts)

    def check(h: str):
        r = subprocess.run(cmd + ["-fsyntax-only", "-x", "c++", "-"], input=f"#include <{h}>\n",
                           capture_output=True, text=True)
        return h, r.returncode, r.stderr

    failed = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for h, rc, err in pool.map(check, headers):
            if rc != 0:
                failed += 1
                print(f"FAIL {h} does not compile alone:\n{err[:2000]}")
    print(f"{len(headers) - failed} of {len(headers)} public headers compile alone")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
