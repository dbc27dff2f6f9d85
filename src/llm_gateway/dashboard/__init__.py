"""The live terminal dashboard (Textual) and the console that toggles it with plain logs."""
