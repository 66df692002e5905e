// `swift run Example` in the generated package (bindings/ffi/build/swift): runs the example and
// exits non-zero if it throws.

import Foundation

do {
    try byokitExample()
} catch {
    FileHandle.standardError.write(Data("example failed: \(error)\n".utf8))
    exit(1)
}
