"""The staff TUI (Textual), used over SSH; talks to the staff API only. Built by issue 5."""
