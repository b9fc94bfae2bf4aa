"""Newsletters: campaigns written in the console, fanned out to a list and sent by the workers.
It sits between the console and the worker wings."""
