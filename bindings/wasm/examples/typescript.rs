//! Prints the TypeScript declarations of the package's types, made from the Rust types:
//! `cargo run -p byokit-wasm --features ts --example typescript`.

fn main() {
    print!("{}", byokit_wasm::typescript_declarations());
}
