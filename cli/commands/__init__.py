"""One module per command: NAME, HELP and `command`, registered in cli/app.py."""
