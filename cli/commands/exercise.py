"""placeholder"""
NAME = "exercise"
HELP = "x"
def command() -> None: ...
