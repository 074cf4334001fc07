"""The harness of bench/live.py: the people and their tokens, the stack, CPU accounting, the
clients in processes of their own, the senders. bench/live.py holds the measurements: the
phases and the figures they print.
"""
