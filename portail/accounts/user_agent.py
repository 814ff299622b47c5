"""Browser and system read from a User-Agent header, for "Mes sessions et appareils".

A small parser for the browsers and systems people use (a library would bring thousands of rules
for bots and devices we never show). Order matters: Edge, Opera and Samsung Internet also say
"Chrome", Chrome also says "Safari". What it does not know is "Navigateur inconnu".
"""

import re
from dataclasses import dataclass

BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/(\d+)")),
    ("Opera", re.compile(r"(?:OPR|Opera)/(\d+)")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/(\d+)")),
    ("Firefox", re.compile(r"(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/")),
)
SYSTEMS = (
    ("iPadOS", re.compile(r"iPad;.*? OS (\d+)")),
    ("iOS", re.compile(r"iPhone;.*? OS (\d+)")),
    ("Android", re.compile(r"Android (\d+)")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Windows", re.compile(r"Windows NT (\d+\.\d+)")),
    ("macOS", re.compile(r"Mac OS X (\d+)[._](\d+)")),
    ("Linux", re.compile(r"Linux|X11")),
)
WINDOWS = {"10.0": "10 ou 11", "6.3": "8.1", "6.2": "8", "6.1": "7"}
UNKNOWN_BROWSER = "Navigateur inconnu"
UNKNOWN_SYSTEM = "Système inconnu"


@dataclass(frozen=True)
class Agent:
    browser: str
    system: str


def _system(user_agent: str) -> str:
    for name, pattern in SYSTEMS:
        match = pattern.search(user_agent)
        if match is None:
            continue
        if name == "Windows":
            return f"Windows {WINDOWS.get(match.group(1), match.group(1))}"
        if name == "macOS":
            return "macOS"  # Safari and Chrome have frozen the version they send at 10.15
        return f"{name} {match.group(1)}" if match.groups() else name
    return UNKNOWN_SYSTEM


def parse(user_agent: str) -> Agent:
    """'Firefox 132' and 'Windows 10 ou 11', or the unknown labels."""
    browser = UNKNOWN_BROWSER
    for name, pattern in BROWSERS:
        match = pattern.search(user_agent)
        if match is not None:
            browser = f"{name} {match.group(1)}"
            break
    return Agent(browser=browser[:64], system=_system(user_agent)[:64])
