"""The default thread count: physical cores, as llama.cpp counts them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from localdigest.llm.llamacpp import cores_in_cpuinfo, default_threads, physical_cores


def cpuinfo(cpus: list[tuple[int, int]], model: str = "Intel(R) Xeon(R) CPU") -> str:
    """A /proc/cpuinfo as an x86 Linux writes it: one block per logical CPU, (physical
    id, core id) per CPU in processor order, blank lines between blocks."""
    per_socket = {}
    for socket, core in cpus:
        per_socket.setdefault(socket, set()).add(core)
    blocks = []
    for n, (socket, core) in enumerate(cpus):
        siblings = sum(1 for s, _ in cpus if s == socket)
        blocks.append(
            f"processor\t: {n}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
            f"model name\t: {model}\nphysical id\t: {socket}\nsiblings\t: {siblings}\n"
            f"core id\t\t: {core}\ncpu cores\t: {len(per_socket[socket])}\n"
            f"apicid\t\t: {2 * n}\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic\n"
        )
    return "\n".join(blocks) + "\n"


# 4 cores with hyper-threading, numbered as Linux does: CPUs 0-3 are the first thread of
# cores 0-3, CPUs 4-7 their siblings.
SMT_4C8T = cpuinfo([(0, c) for c in range(4)] * 2)
# This project's 2-core EPYC virtual machine: no SMT.
NO_SMT_2C = cpuinfo([(0, 0), (0, 1)], "AMD EPYC")
# Two sockets of 2 cores with SMT: core ids repeat on each socket.
TWO_SOCKETS = cpuinfo([(0, 0), (0, 1), (1, 0), (1, 1)] * 2)


def test_smt_siblings_count_once() -> None:
    assert cores_in_cpuinfo(SMT_4C8T, set(range(8))) == 4


def test_without_smt_every_cpu_is_a_core() -> None:
    assert cores_in_cpuinfo(NO_SMT_2C, {0, 1}) == 2


def test_core_ids_repeat_on_each_socket() -> None:
    assert cores_in_cpuinfo(TWO_SOCKETS, set(range(8))) == 4
    assert cores_in_cpuinfo(TWO_SOCKETS, {0, 1}) == 2  # the first socket only


def test_only_the_cpus_of_the_affinity_mask_count() -> None:
    # taskset -c 0,4: one core and its sibling
    assert cores_in_cpuinfo(SMT_4C8T, {0, 4}) == 1
    # taskset -c 0,1: two different cores
    assert cores_in_cpuinfo(SMT_4C8T, {0, 1}) == 2
    assert cores_in_cpuinfo(SMT_4C8T, set()) == 0


def test_cpus_without_core_ids_count_each() -> None:
    # An ARM Linux: no physical id or core id lines.
    arm = "".join(
        f"processor\t: {n}\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n\n"
        for n in range(4)
    )
    assert cores_in_cpuinfo(arm, {0, 1, 2, 3}) == 4
    assert cores_in_cpuinfo(arm, {2}) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/cpuinfo")
def test_this_machine_counts_its_own_cores() -> None:
    allowed = os.sched_getaffinity(0)
    expected = cores_in_cpuinfo(Path("/proc/cpuinfo").read_text(), allowed)
    assert physical_cores() == (expected or None)
    assert 1 <= default_threads() <= len(allowed)
