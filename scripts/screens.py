#!/usr/bin/env python3
"""Writes docs/screens.md: the dashboard's main screens at 80x24, as its snapshot tests render
them (tui/src/dashboard/snapshots, the same cells a terminal shows). Run it after accepting
new snapshots: python3 scripts/screens.py"""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SNAPS = ROOT / "tui/src/dashboard/snapshots"
# (snapshot, title, how to get there)
SCREENS = [
    ("queue", "Queues", "the dashboard opens here; `1`–`6` pick a queue"),
    ("detail", "A lead", "`enter` on a row"),
    ("lead_intel", "A lead's churn risk, routing and matches",
     "`enter` on a lead with listings imported; `U` assigns it as routing suggests (docs/intel.md)"),
    ("search", "Search", "`/` and a few letters of a name, phone, email or tag"),
    ("compose_sms", "Compose", "`c` on a lead"),
    ("followups", "Follow-ups", "`7`"),
    ("analytics", "Analytics", "`8`; `<` and `>` change the range"),
    ("system", "System", "`9` (or `z`): sync, the edits waiting for GHL, skipped records, the log"),
    ("ghl_banner", "When GHL cannot be reached", "a banner on every screen says what still works"),
    ("lead_timeline", "A lead's timeline", "notes, tasks and stage changes beside the messages; `J`/`K` scroll the pane"),
    ("deal_calculator", "Deal", "`d` on a lead: the deal's stage and value, and the commission and ROI calculator"),
    ("deal_stage_picker", "Moving a deal", "`S` on the Deal screen"),
    ("tasks", "Tasks", "`w` (or `g t`): every open task, overdue first"),
    ("palette_query", "Command palette", "`:` and part of an action's name"),
    ("help", "Keys", "`?`"),
]


def screen(name: str) -> str | None:
    path = SNAPS / f"{name}_80x24.snap"
    if not path.exists():
        return None
    body = path.read_text(encoding="utf-8").split("---\n", 2)[2]
    rows = body.splitlines()
    if rows and all(r.startswith('"') and r.endswith('"') for r in rows if r):
        # TestBackend's Debug: one quoted row a line (inner quotes are not escaped).
        rows = [r[1:-1] for r in rows if r]
    return "\n".join(r.rstrip() for r in rows).strip("\n")


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
