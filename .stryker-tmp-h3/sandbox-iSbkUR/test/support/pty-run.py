"""Test support: runs a command in a real pseudo-terminal, as a person's terminal does.

    python3 pty-run.py COMMAND [ARGS...]

The command is the session leader's foreground job on a new terminal: its
output is copied to this process's stdout, and what this process reads on
stdin is typed into the terminal as keystrokes, so writing b"\\x03" is a
Ctrl-C that the terminal turns into SIGINT for the whole foreground process
group, exactly as in a person's terminal. SIGUSR1 to this process closes the
terminal (the kernel then sends SIGHUP, as when a terminal window is closed).
Exits with the command's exit code (128 + N when signal N ended it).
"""

import os
import pty
import select
import signal
import sys


def main() -> int:
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[1], sys.argv[1:])

    hung_up = False

    def hang_up(_signum, _frame):
        nonlocal hung_up
        hung_up = True

    signal.signal(signal.SIGUSR1, hang_up)
    stdin = sys.stdin.buffer.fileno()
    readers = [master, stdin]
    while True:
        if hung_up:
            os.close(master)
            break
        try:
            ready, _, _ = select.select(readers, [], [], 0.2)
        except InterruptedError:
            continue
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every process of the terminal has closed it
                data = b""
            if not data:
                break
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        if stdin in ready:
            keys = os.read(stdin, 1024)
            if keys:
                os.write(master, keys)
            else:
                readers.remove(stdin)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main())
