"""Screenshot the benchmark page in headless Chromium, to look at it as a reader would.

    python bench/screenshot_report.py reports/benchmark.html reports/benchmark_screenshot.png

Needs Debian's `chromium` (apt-get install -y chromium). Offline: the page is self-contained and
Chromium is started with every background network feature off.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """Path of a Chromium executable on PATH, or None."""
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def screenshot(page: Path, out: Path, *, width: int = 1400, height: int = 4000, timeout: float = 120) -> Path:
    """Render ``page`` headless at ``width`` x ``height`` pixels and write a PNG to ``out``."""
    browser = find_chromium()
    if browser is None:
        raise FileNotFoundError("chromium not found on PATH (Debian: apt-get install -y chromium)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="leadscore-chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={out.resolve()}",
            f"--window-size={width},{height}",
            page.resolve().as_uri(),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
    if not out.is_file():
        raise RuntimeError(f"chromium wrote no screenshot to {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("page", type=Path, nargs="?", default=Path("reports/benchmark.html"))
    parser.add_argument("out", type=Path, nargs="?", default=Path("reports/benchmark_screenshot.png"))
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=4000)
    args = parser.parse_args(argv)
    if not args.page.is_file():
        print(f"{args.page}: not found (run `dvc repro` first)", file=sys.stderr)
        return 2
    path = screenshot(args.page, args.out, width=args.width, height=args.height)
    print(f"wrote {path} ({args.width}x{args.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
