"""In-process benchmarks: they import shopd's internals and time them, without a server or a
network, and print what each costs in CPU. ``loadtest/`` measures the running shop from outside.

    python -m benchmarks.response_cost     a cached page or API response through the whole app
    python -m benchmarks.statement_cost    one hot query, written the ways the shop can write it
"""
