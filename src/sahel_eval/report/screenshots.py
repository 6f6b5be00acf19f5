"""Screenshots of the reports' first screen, for a person to look at before release.

Usage::

    python -m sahel_eval.report.screenshots reports/ --out /tmp/shots

Writes ``<report>.png`` for each ``*.html`` of the folder (not committed: screenshots
depend on the machine's fonts). ``--width 390`` shows the page as a 390 × 844 phone
does (``<report>.390.png``). ``--print`` also writes ``<report>.print.png``, the
whole page laid out for print on A4 width, to judge the PDF layout.

The browser is the Debian ``chromium`` driven through ``/usr/bin/chromedriver``:
nothing is downloaded (Selenium Manager is switched off) and the page makes no network
request, so this works offline. :func:`make_driver` is shared with the browser tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "CHROMEDRIVER",
    "CHROMIUM",
    "browser_missing",
    "make_driver",
    "phone_screen",
    "screenshot_reports",
]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Background networking, component updates and sync would make requests of their own
# (and log errors offline) that have nothing to do with the page under test.
_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)

# A4 text width at 96 dpi (210 mm − 2 × 16 mm margins) for the print preview.
_A4_TEXT_WIDTH_PX = 673


def browser_missing() -> str | None:
    """Why the browser cannot run here (``None`` when Chromium and its driver are present)."""
    missing = [
        p for p in (CHROMIUM, CHROMEDRIVER) if not (Path(p).is_file() and os.access(p, os.X_OK))
    ]
    if missing:
        return (
            f"{' and '.join(missing)} not found: install the Debian packages chromium and "
            "chromium-driver (apt-get install chromium chromium-driver)"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed in this environment"
    return None


def make_driver(width: int = 1280, height: int = 900) -> Any:
    """A headless Chromium WebDriver that never downloads anything.

    Raises
    ------
    RuntimeError
        When Chromium, chromedriver or selenium is missing (see :func:`browser_missing`).
    """
    reason = browser_missing()
    if reason:
        raise RuntimeError(reason)
    # Selenium Manager would otherwise look for (and download) a driver when the
    # given one fails; offline mode makes that a clear error instead.
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in _ARGS:
        options.add_argument(arg)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER)
    return webdriver.Chrome(service=service, options=options)


def phone_screen(driver: Any, width: int = 390, height: int = 844) -> None:
    """Lay pages out as a phone of ``width`` × ``height`` CSS px does (``innerWidth`` is
    ``width``), until ``Emulation.clearDeviceMetricsOverride``."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def screenshot_reports(
    folder: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    print_layout: bool = False,
    width: int | None = None,
) -> list[Path]:
    """Write a PNG of the first screen of every ``*.html`` in ``folder``; return the paths.

    ``width`` (e.g. 390) shows each page on a phone screen of that width instead of a
    1280 px desktop window.
    """
    folder, out = Path(folder), Path(out)
    pages = sorted(folder.glob("*.html"))
    if not pages:
        raise FileNotFoundError(f"no *.html report in {folder}; run `make run` first")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    driver = make_driver()
    try:
        for page in pages:
            driver.set_window_size(1280, 900)
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "screen"})
            if width:
                phone_screen(driver, width)
            driver.get(page.resolve().as_uri())
            target = out / (f"{page.stem}.{width}.png" if width else f"{page.stem}.png")
            driver.save_screenshot(str(target))
            written.append(target)
            if width:
                driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            if print_layout:
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(_A4_TEXT_WIDTH_PX + 40, int(height) + 100)
                target = out / f"{page.stem}.print.png"
                driver.save_screenshot(str(target))
                written.append(target)
    finally:
        driver.quit()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m sahel_eval.report.screenshots",
        description="PNG of each report's first screen, for a person to look at.",
    )
    parser.add_argument("folder", help="folder of HTML reports, e.g. reports/")
    parser.add_argument("--out", required=True, help="folder for the PNG files")
    parser.add_argument(
        "--print", dest="print_layout", action="store_true", help="also the print layout"
    )
    parser.add_argument("--width", type=int, help="phone screen width in CSS px, e.g. 390")
    args = parser.parse_args(argv)
    if shutil.which(CHROMIUM) is None and browser_missing():
        print(browser_missing(), file=sys.stderr)
        return 2
    try:
        shots = screenshot_reports(
            args.folder, args.out, print_layout=args.print_layout, width=args.width
        )
        for path in shots:
            print(path)
    except (FileNotFoundError, RuntimeError) as err:
        print(err, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
