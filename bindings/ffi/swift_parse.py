"""Parses Swift files with the tree-sitter Swift grammar and fails on any syntax error, naming
the file, line and column. No Swift compiler runs on Linux CI machines here; this is the check
that the generated bindings, the tests and the example are well-formed Swift.

The grammar does not know `@_documentation(visibility: private)`, which uniffi emits; it is
blanked (same length, so positions stay true) before parsing.

Usage: python3 bindings/ffi/swift_parse.py FILE.swift...
"""

import re
import sys

import tree_sitter
import tree_sitter_swift

UNKNOWN_ATTRIBUTE = re.compile(rb"@_documentation\(visibility:\s*private\)")


def errors(tree):
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            yield node
        elif node.has_error:
            stack.extend(node.children)


def main(paths):
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
    failed = False
    for path in paths:
        source = open(path, "rb").read()
        source = UNKNOWN_ATTRIBUTE.sub(lambda m: b" " * len(m.group(0)), source)
        tree = parser.parse(source)
        found = list(errors(tree))
        for node in found[:5]:
            line, column = node.start_point
            kind = "missing" if node.is_missing else "syntax error"
            print(f"{path}:{line + 1}:{column + 1}: {kind} near {source[node.start_byte:node.start_byte + 40]!r}")
        failed |= bool(found)
        if not found:
            print(f"{path}: parses ({len(source)} bytes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
