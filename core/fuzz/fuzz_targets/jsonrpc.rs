#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| byokit_core_fuzz::jsonrpc(data));
