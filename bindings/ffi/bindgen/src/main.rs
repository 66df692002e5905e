//! `uniffi-bindgen`, pinned to the uniffi version byokit-ffi is built with.

fn main() {
    uniffi::uniffi_bindgen_main()
}
