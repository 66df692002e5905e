"""Prints the public API of the generated bindings as Markdown: the listing in
docs/ffi-api.md, which scripts/test-ffi.sh checks against what the generator makes. Names are
Python's; Kotlin and Swift use the same names in camelCase (types keep theirs).

Usage: PYTHONPATH=<generated python dir> python3 bindings/ffi/api.py
"""

import enum
import inspect

import byokit_ffi as b


def annotation(a):
    if a is inspect.Parameter.empty:
        return ""
    text = a if isinstance(a, str) else getattr(a, "__name__", None) or repr(a)
    return text.replace("typing.", "").replace("byokit_ffi.", "")


def signature(fn, skip_self=True):
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if not (skip_self and p.name in ("self", "cls"))]
    args = ", ".join(f"{p.name}: {annotation(p.annotation)}" for p in params)
    ret = annotation(sig.return_annotation)
    return f"({args})" + (f" -> {ret}" if ret and ret != "None" else "")


def variants(cls):
    return [n for n, v in vars(cls).items() if inspect.isclass(v) and not n.startswith("_")]


def main():
    names = sorted(n for n in b.__all__ if n != "InternalError" and not n.endswith("Protocol"))
    functions, types = [], []
    for name in names:
        obj = getattr(b, name)
        if inspect.isfunction(obj):
            functions.append(f"fn {name}{signature(obj)}")
        elif issubclass(obj, enum.Enum):
            types.append(f"enum {name} {{ {', '.join(v.name for v in obj)} }}")
        elif issubclass(obj, Exception):
            types.append(f"error {name} {{ {', '.join(variants(obj))} }}")
        elif "_handle" in getattr(obj, "__annotations__", {}):
            types.append(f"object {name}")
            for n, m in vars(obj).items():
                if n.startswith("_") and n != "__init__":
                    continue
                if n == "__init__":
                    if {"handle", "args"} & set(inspect.signature(m).parameters):
                        continue
                    types.append(f"    constructor{signature(m)}")
                elif isinstance(m, classmethod):
                    types.append(f"    static {n}{signature(m.__func__)}")
                elif callable(m):
                    types.append(f"    {n}{signature(m)}")
        elif variants(obj):
            types.append(f"enum {name} {{ {', '.join(f'{v}{signature(getattr(obj, v).__init__)}' for v in variants(obj))} }}")
        else:
            types.append(f"record {name}{signature(obj.__init__)}")
    print("```text")
    print("\n".join(functions + [""] + types))
    print("```")


if __name__ == "__main__":
    main()
