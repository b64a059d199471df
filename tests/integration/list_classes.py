#!/usr/bin/env python3
"""Prints the unittest classes of a test module that have tests, one per line, without importing
it (ast only): CMake makes one ctest entry of each. A class counts when it derives, through
classes of the module or imported by name from modules beside it, from unittest.TestCase and
has test_ methods of its own or inherited."""
import ast
import os
import sys


def module_classes(path, seen=()):
    """{name: (bases, has test methods)} of a module's classes, and of the classes it imports
    by name from modules beside it (a base class such as test_rtmp.RtmpTestCase)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    classes = {}
    here = os.path.dirname(path)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            other = os.path.join(here, node.module + ".py")
            if os.path.isfile(other) and other not in seen:
                theirs, _own = module_classes(other, seen + (path,))
                for alias in node.names:
                    if alias.name in theirs:
                        classes[alias.asname or alias.name] = theirs[alias.name]
                        # and what those classes derive from, for the walk below
                        for name, value in theirs.items():
                            classes.setdefault(name, value)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(b) for b in node.bases]
            tests = any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
                        for n in node.body)
            classes[node.name] = (bases, tests)
    return classes, [n.name for n in tree.body if isinstance(n, ast.ClassDef)]


def test_classes(path):
    classes, own = module_classes(path)

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

    return [n for n in own if is_case(n) and has_tests(n)]


if __name__ == "__main__":
    for path in sys.argv[1:]:
        for name in test_classes(path):
            print(name)
