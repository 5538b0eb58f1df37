"""Payment providers: see base.py (interface documented here when complete)."""
