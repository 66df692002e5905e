"""Checks Swift files with the tree-sitter Swift grammar, as far as a machine without a Swift
compiler can (no Swift compiler runs on Linux CI machines here). Each failure names the file,
line and column.

Every file given, and with `--package DIR` every .swift file of that Swift package:
- parses without a syntax error;
- if it uses a type that Linux and Windows have in FoundationNetworking (URLRequest, URLSession,
  HTTPURLResponse, ...), imports Foundation and also
      #if canImport(FoundationNetworking)
      import FoundationNetworking
      #endif
  (without it, it does not compile on Linux: "cannot find 'URLRequest' in scope");
- imports FoundationNetworking only under that condition (Apple platforms have no such module);
- if it calls `exit`, imports Foundation.

With `--package DIR` (the package scripts/ffi-generate.sh writes), DIR/Package.swift must also
declare the executable target Example (so that `swift run Example` runs the example) over the
Byokit library, with a main.swift that calls `byokitExample()`, which the target declares, and
exits non-zero when it throws; and the test target ByokitTests.

The grammar does not know `@_documentation(visibility: private)`, which uniffi emits; it is
blanked (same length, so positions stay true) before parsing.

Usage: python3 bindings/ffi/swift_parse.py [--package DIR] FILE.swift...
"""

import os
import re
import sys

import tree_sitter
import tree_sitter_swift

UNKNOWN_ATTRIBUTE = re.compile(rb"@_documentation\(visibility:\s*private\)")

# Types that swift-corelibs-foundation has in FoundationNetworking, not Foundation, and every
# type whose name starts with URLSession.
NETWORKING_TYPES = {
    "URLRequest", "NSURLRequest", "NSMutableURLRequest", "URLResponse", "HTTPURLResponse",
    "NSURLResponse", "NSHTTPURLResponse", "URLCache", "URLCredential", "URLCredentialStorage",
    "URLProtectionSpace", "URLAuthenticationChallenge", "URLProtocol", "HTTPCookie",
    "HTTPCookieStorage",
}
NETWORKING_GUARD = "canImport(FoundationNetworking)"

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))


class SwiftFile:
    def __init__(self, path):
        self.path = path
        source = open(path, "rb").read()
        self.source = UNKNOWN_ATTRIBUTE.sub(lambda m: b" " * len(m.group(0)), source)
        self.tree = PARSER.parse(self.source)

    def text(self, node):
        return self.source[node.start_byte:node.end_byte].decode()

    def where(self, node):
        line, column = node.start_point
        return f"{self.path}:{line + 1}:{column + 1}"

    def nodes(self, *types):
        stack = [self.tree.root_node]
        while stack:
            node = stack.pop()
            if node.type in types:
                yield node
            stack.extend(reversed(node.children))

    def syntax_errors(self):
        stack = [self.tree.root_node]
        while stack:
            node = stack.pop()
            if node.is_error or node.is_missing:
                yield node
            elif node.has_error:
                stack.extend(node.children)

    def imports(self):
        """(module, the #if conditions it is under, innermost last, node) for each top-level
        import. The grammar gives #if/#else/#endif as flat siblings of the declarations."""
        conditions = []
        for node in self.tree.root_node.children:
            if node.type == "directive":
                keyword = node.children[0].type
                condition = "".join(self.text(c) for c in node.children[1:])
                if keyword == "#if":
                    conditions.append(condition)
                elif keyword in ("#elseif", "#else") and conditions:
                    conditions[-1] = f"!({conditions[-1]})" + (f" && {condition}" if condition else "")
                elif keyword == "#endif" and conditions:
                    conditions.pop()
            elif node.type == "import_declaration":
                module = next((self.text(c) for c in node.children if c.type == "identifier"), "")
                yield module, tuple(conditions), node

    def calls(self, name):
        """Calls of a bare function `name(...)`."""
        for node in self.nodes("call_expression"):
            callee = node.children[0]
            if callee.type == "simple_identifier" and self.text(callee) == name:
                yield node


def check_file(swift):
    """The problems of one file, as printable lines."""
    found = list(swift.syntax_errors())
    problems = []
    for node in found[:5]:
        kind = "missing" if node.is_missing else "syntax error"
        problems.append(f"{swift.where(node)}: {kind} near {swift.source[node.start_byte:node.start_byte + 40]!r}")
    if found:
        return problems

    imports = list(swift.imports())
    foundation = any(module == "Foundation" and not conditions for module, conditions, _ in imports)
    networking = False
    for module, conditions, node in imports:
        if module != "FoundationNetworking":
            continue
        if conditions and conditions[-1] == NETWORKING_GUARD:
            networking = True
        else:
            problems.append(f"{swift.where(node)}: import FoundationNetworking outside "
                            f"#if {NETWORKING_GUARD}: Apple platforms have no such module")

    uses = [node for node in swift.nodes("simple_identifier", "type_identifier")
            if swift.text(node) in NETWORKING_TYPES or swift.text(node).startswith("URLSession")]
    if uses and not (foundation and networking):
        first = uses[0]
        problems.append(f"{swift.where(first)}: uses {swift.text(first)}, which Linux and Windows have in "
                        f"FoundationNetworking: import Foundation, and FoundationNetworking under "
                        f"#if {NETWORKING_GUARD}")

    exits = list(swift.calls("exit"))
    if exits and not foundation:
        problems.append(f"{swift.where(exits[0])}: calls exit without import Foundation")
    return problems


def string_value(swift, node):
    """A string literal's text, a list of them for an array literal, else None."""
    if node.type == "line_string_literal":
        parts = [c for c in node.children if c.type not in ('"',)]
        if all(c.type == "line_str_text" for c in parts):
            return "".join(swift.text(c) for c in parts)
    if node.type == "array_literal":
        values = [string_value(swift, c) for c in node.children if c.type not in ("[", "]", ",")]
        if all(isinstance(v, str) for v in values):
            return values
    return None


def targets(swift):
    """{name: (kind, {label: value})} for each `.target(...)`-like call in Package.swift."""
    kinds = {"target", "executableTarget", "testTarget", "systemLibrary", "binaryTarget", "plugin", "macro"}
    found = {}
    for call in swift.nodes("call_expression"):
        callee = call.children[0]
        if callee.type != "prefix_expression" or len(callee.children) != 2:
            continue
        kind = swift.text(callee.children[1])
        if kind not in kinds:
            continue
        arguments = {}
        for suffix in (c for c in call.children if c.type == "call_suffix"):
            for args in (c for c in suffix.children if c.type == "value_arguments"):
                for argument in (c for c in args.children if c.type == "value_argument"):
                    label = next((c for c in argument.children if c.type == "value_argument_label"), None)
                    value = argument.children[-1]
                    if label is not None:
                        arguments[swift.text(label)] = string_value(swift, value)
        name = arguments.get("name")
        if isinstance(name, str):
            found[name] = (kind, arguments)
    return found


def check_package(directory, files):
    """The problems of the package's layout; `files` are its parsed .swift files by path."""
    manifest = files.get(os.path.join(directory, "Package.swift"))
    if manifest is None:
        return [f"{directory}: no Package.swift"]
    declared = targets(manifest)
    problems = []

    kind, arguments = declared.get("Example", (None, {}))
    if kind != "executableTarget":
        problems.append(f"{manifest.path}: no .executableTarget(name: \"Example\", ...): "
                        f"`swift run Example` would not run the example")
    else:
        if "Byokit" not in (arguments.get("dependencies") or []):
            problems.append(f"{manifest.path}: the Example target does not depend on Byokit")
        sources = os.path.join(directory, arguments.get("path") or "Sources/Example")
        target_files = [swift for path, swift in files.items() if os.path.dirname(path) == sources]
        main = next((swift for swift in target_files if os.path.basename(swift.path) == "main.swift"), None)
        declares = [swift for swift in target_files
                    if any(swift.text(name) == "byokitExample"
                           for function in swift.nodes("function_declaration")
                           for name in function.children if name.type == "simple_identifier")]
        if main is None:
            problems.append(f"{sources}: no main.swift to run the example")
        else:
            if not list(main.calls("byokitExample")):
                problems.append(f"{main.path}: does not call byokitExample()")
            failing = [call for call in main.calls("exit")
                       if swift_argument(main, call) not in ("0", "EXIT_SUCCESS", None)]
            if not failing:
                problems.append(f"{main.path}: does not exit non-zero (exit(1)) when the example throws")
        if not declares:
            problems.append(f"{sources}: no Swift file declares func byokitExample")

    kind, arguments = declared.get("ByokitTests", (None, {}))
    if kind != "testTarget" or "Byokit" not in (arguments.get("dependencies") or []):
        problems.append(f"{manifest.path}: no .testTarget(name: \"ByokitTests\", dependencies: [\"Byokit\"], ...)")
    if not problems:
        summary = ", ".join(f"{kind} {name}" for name, (kind, _) in sorted(declared.items()))
        print(f"{manifest.path}: declares {summary}")
    return problems


def swift_argument(swift, call):
    """The text of a call's only argument, None if it has not exactly one."""
    arguments = [argument for suffix in call.children if suffix.type == "call_suffix"
                 for args in suffix.children if args.type == "value_arguments"
                 for argument in args.children if argument.type == "value_argument"]
    return swift.text(arguments[0]) if len(arguments) == 1 else None


def main(argv):
    package = None
    if len(argv) >= 2 and argv[0] == "--package":
        package, argv = os.path.normpath(argv[1]), argv[2:]
    paths = list(argv)
    if package is not None:
        for root, directories, names in os.walk(package):
            directories[:] = sorted(d for d in directories if d != ".build")  # swift build's output
            paths.extend(os.path.join(root, name) for name in sorted(names) if name.endswith(".swift"))
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2

    files, problems = {}, []
    for path in paths:
        path = os.path.normpath(path)
        if path in files:
            continue
        swift = files[path] = SwiftFile(path)
        found = check_file(swift)
        problems.extend(found)
        if not found:
            print(f"{path}: parses ({len(swift.source)} bytes)")
    if package is not None:
        problems.extend(check_package(package, files))
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
