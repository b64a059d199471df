#!/usr/bin/env python3
"""Prints the unittest classes of a test module that have tests, one per line, without importing
it (ast only): CMake makes one ctest entry of each. A class counts when it derives, through
classes of the same module, from unittest.TestCase and has test_ methods of its own or inherited."""
import ast
import sys


def test_classes(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(b) for b in node.bases]
            tests = any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
                        for n in node.body)
            classes[node.name] = (bases, tests)

    def is_case(name, seen=()):
        if name in ("unittest.TestCase", "TestCase"):
            return True
        if name not in classes or name in seen:
            return False
        return any(is_case(b, seen + (name,)) for b in classes[name][0])

    def has_tests(name, seen=()):
        if name not in classes or name in seen:
            return False
        bases, tests = classes[name]
        return tests or any(has_tests(b, seen + (name,)) for b in bases)

    return [n for n in classes if is_case(n) and has_tests(n)]


if __name__ == "__main__":
    for path in sys.argv[1:]:
        for name in test_classes(path):
            print(name)
