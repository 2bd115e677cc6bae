"""hscan-testd as a subprocess, for the Python end-to-end tests
(test-cli.py, test-examples.py): it prints where its servers listen,
one per line, and ends by itself after `lifetime` seconds at the most.
"""
import subprocess
import time


class Testd:
    def __init__(self, path, lifetime):
        self.started = time.time()
        self.p = subprocess.Popen([path, "--lifetime", str(lifetime)],
                                  stdout=subprocess.PIPE, text=True)
        self.dns = self.p.stdout.readline().split()[1]
        self.http = int(self.p.stdout.readline().split()[1].split(":")[1])
        self.https = int(self.p.stdout.readline().split()[1].split(":")[1])
        self.ca = self.p.stdout.readline().split(maxsplit=1)[1].strip()

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=10)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
