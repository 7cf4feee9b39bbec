//! Arbitrary bytes as `--from -` input: refused with an error, or read and
//! diagnosed and rendered. Never a panic.

#![no_main]

use kubectl_storage_doctor::source::dump::{self, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(loaded) = dump::load(&[Input::Stdin], &mut &data[..]) {
        kubectl_storage_doctor_fuzz::diagnose_and_render(&loaded.snapshot);
    }
});
