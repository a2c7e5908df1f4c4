"""The dashboard: a thin Textual layer over the headless core."""
