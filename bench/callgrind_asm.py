#!/usr/bin/env python3
"""Per-instruction costs of the functions matching a pattern, from a callgrind profile.

callgrind_annotate shows source lines; on an optimized build most of a function's cost sits in
inlined header code, spread over many files. This prints the executed instructions of each
matching function itself, with their disassembly, so the straight-line path of one operation
can be read (and counted) directly.

  valgrind --tool=callgrind --fair-sched=yes --dump-instr=yes --callgrind-out-file=b1.out \\
      build-bench/bench/callgrind_driver b1 100000
  bench/callgrind_asm.py b1.out build-bench/bench/callgrind_driver 'Tracer::Start(' 100000

Arguments: the profile, the profiled binary (objdump reads it), a substring of the function's
demangled name, and the number of operations to divide by (the instruction counts shown are
per operation). Only the binary's own functions are disassembled (not shared libraries').
"""
import collections
import re
import signal
import subprocess
import sys


def position(token, last):
    """A callgrind position: absolute, relative (+n / -n) or the same as before (*)."""
    if token == "*":
        return last
    if token[0] in "+-":
        return last + int(token, 0)
    return int(token, 0)


def self_costs(profile, pattern):
    """{(function, address): instructions executed there}, for functions matching pattern."""
    names = {}
    costs = collections.Counter()
    function = None
    address = 0
    line = 0
    skip_call_cost = False
    name_line = re.compile(r"^(c?fn|c?ob|fl|fi|fe|cfi|cfl)=\((\d+)\)(?: (.*))?$")
    with open(profile) as lines:
        for text in lines:
            text = text.rstrip("\n")
            match = name_line.match(text)
            if match:
                kind, index, name = match.groups()
                key = ("fn" if kind.endswith("fn") else kind, index)
                if name:
                    names[key] = name
                if kind == "fn":
                    function = names.get(key)
                continue
            if text.startswith("calls="):
                skip_call_cost = True  # the next line is the call's inclusive cost
                continue
            if not text or text[0] not in "+-*0123456789":
                continue
            fields = text.split()
            address = position(fields[0], address)
            if len(fields) >= 2:
                line = position(fields[1], line)
            if skip_call_cost:
                skip_call_cost = False
                continue
            if function and pattern in function and len(fields) >= 3:
                costs[(function, address)] += int(fields[2])
    return costs


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    profile, binary, pattern, per = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    costs = self_costs(profile, pattern)
    for function in sorted({f for f, _ in costs}):
        addresses = sorted(a for f, a in costs if f == function)
        total = sum(costs[(function, a)] for a in addresses)
        print(f"### {function}  self={total / per:.1f}")
        disassembly = subprocess.run(
            ["objdump", "-d", "--no-show-raw-insn", "-C", f"--start-address={addresses[0]:#x}",
             f"--stop-address={addresses[-1] + 16:#x}", binary],
            capture_output=True, text=True, check=False).stdout
        for text in disassembly.splitlines():
            match = re.match(r"^\s*([0-9a-f]+):\s*(.*)$", text)
            if not match:
                continue
            count = costs.get((function, int(match.group(1), 16)), 0)
            if count:
                print(f"{count / per:8.2f}  {match.group(1)}: {match.group(2)}")


if __name__ == "__main__":
    main()
