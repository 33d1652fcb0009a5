#!/usr/bin/env python3
"""Writes docs/screens.md: the dashboard's main screens at 80x24, as its snapshot tests render
them (tui/src/dashboard/snapshots, the same cells a terminal shows). Run it after accepting
new snapshots: python3 scripts/screens.py"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SNAPS = ROOT / "tui/src/dashboard/snapshots"
# (snapshot, title, how to get there)
SCREENS = [
    ("queue", "Queues", "the dashboard opens here; `1`–`6` pick a queue"),
    ("detail", "A lead", "`enter` on a row"),
    ("search", "Search", "`/` and a few letters of a name, phone, email or tag"),
    ("compose_sms", "Compose", "`c` on a lead"),
    ("followups", "Follow-ups", "`7`"),
    ("analytics", "Analytics", "`8`; `<` and `>` change the range"),
    ("system", "System", "the System tab"),
    ("deal", "Deal", "`d` on a lead"),
    ("tasks", "Tasks", "the Tasks tab"),
    ("palette", "Command palette", "`:`"),
    ("help", "Keys", "`?`"),
]


def screen(name: str) -> str | None:
    path = SNAPS / f"{name}_80x24.snap"
    if not path.exists():
        return None
    body = path.read_text(encoding="utf-8").split("---\n", 2)[2]
    lines = [json.loads(line) for line in body.splitlines() if line.startswith('"')]
    return "\n".join(line.rstrip() for line in lines)


def main() -> None:
    out = [
        "# The dashboard's screens",
        "",
        "Each picture is an 80×24 terminal, as the dashboard's snapshot tests render it",
        "(`cargo test -p leadline-tui`; written by `scripts/screens.py`). Wider terminals show",
        "more columns and, on Analytics, more charts.",
        "",
    ]
    for name, title, how in SCREENS:
        text = screen(name)
        if text is None:
            continue
        out += [f"## {title}", "", f"{how[0].upper()}{how[1:]}.", "", "```text", text, "```", ""]
    (ROOT / "docs/screens.md").write_text("\n".join(out), encoding="utf-8")


if __name__ == "__main__":
    main()
