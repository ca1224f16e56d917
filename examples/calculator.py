"""The module examples/demo.js loads: a function, a class, constants and an error."""

VERSION = "1.0.0"
PI = 3.14159

_private = "names that start with _ are not exported to JS"


def add(a, b):
    return a + b


def scale(x, factor=1, offset=0):
    return x * factor + offset


def divide(a, b):
    return a / b  # divide(1, 0) raises ZeroDivisionError


class Calculator:
    def __init__(self, precision=2):
        self.precision = precision
        self.history = []

    def add(self, a, b):
        result = round(a + b, self.precision)
        self.history.append(result)
        return result

    def describe(self, *, prefix="calc"):
        return f"{prefix}: precision {self.precision}, {len(self.history)} results"
