"""`free_port()` (sandbox/fakes/ports.py): a port nothing listens on, which no other pytest-xdist
worker and no bind(0) elsewhere hands out meanwhile."""

from __future__ import annotations

import socket

from sandbox.fakes.ports import ephemeral_low, free_port, is_free, port_block


def test_each_xdist_worker_picks_from_its_own_block_below_the_ephemeral_range(monkeypatch):
    picked = {}
    for worker in ("", "gw0", "gw1", "gw2", "gw3"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        block = port_block()
        port = free_port()
        assert port in block
        assert 1024 < port < ephemeral_low()
        picked[worker] = block
    blocks = list(picked.values())
    for i, one in enumerate(blocks):
        for other in blocks[i + 1 :]:
            assert set(one).isdisjoint(other)


def test_a_process_does_not_hand_out_the_same_port_twice_in_a_row():
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50


def test_a_port_someone_listens_on_is_never_handed_out():
    block = port_block()
    last = free_port()
    # The ports that come next in this process's walk: each taken by a listener first (or
    # already in use by someone else), so none of them may come out.
    after = [block[(block.index(last) + k) % len(block)] for k in range(1, 6)]
    listening = []
    try:
        for port in after:
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            sock.listen()
            listening.append(sock)
        assert not any(is_free(port) for port in after)
        assert free_port() not in after
    finally:
        for sock in listening:
            sock.close()
