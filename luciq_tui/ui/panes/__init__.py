"""One module per pane; each renders snapshots of one optimizer and sends requests."""
