"""Helpers shared by the interop scripts."""
import subprocess

SKIP = 77  # meson's exit code for a skipped test


def run(*cmd, ok=True, **kw):
    r = subprocess.run(cmd, capture_output=True, **kw)
    if ok and r.returncode != 0:
        raise SystemExit(f"FAILED: {' '.join(map(str, cmd))}\n{r.stdout.decode()}{r.stderr.decode()}")
    return r


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        raise SystemExit(1)
