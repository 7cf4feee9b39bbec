//! Reading hostile input safely: a cap on the bytes read from every input
//! together, and a stop at the first chunk that is not text (a NUL byte or
//! invalid UTF-8), so `/dev/zero`, a disk image or a runaway pipe ends in
//! a clear error instead of filling memory.

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

/// Why reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// More than the budget was read.
    TooLarge,
    /// A NUL byte at this offset.
    Nul(u64),
    /// Invalid UTF-8 at this offset.
    NotUtf8(u64),
}

/// Bytes left to read, shared by every input of one load.
pub(super) type Budget = Rc<Cell<u64>>;

/// A reader that enforces the budget and the text check; when it stops,
/// [`Guarded::stop`] says why (the I/O error it returns only says that it did).
pub(super) struct Guarded<R> {
    inner: R,
    budget: Budget,
    offset: u64,
    /// The start of a UTF-8 sequence cut at the end of the last chunk.
    carry: Vec<u8>,
    stop: Rc<Cell<Option<Stop>>>,
}

impl<R: Read> Guarded<R> {
    pub(super) fn new(inner: R, budget: Budget) -> Self {
        Guarded {
            inner,
            budget,
            offset: 0,
            carry: Vec::new(),
            stop: Rc::new(Cell::new(None)),
        }
    }

    /// Where the reason it stopped will be, once it has.
    pub(super) fn stop(&self) -> Rc<Cell<Option<Stop>>> {
        Rc::clone(&self.stop)
    }

    fn check(&mut self, chunk: &[u8]) -> Option<Stop> {
        if let Some(i) = chunk.iter().position(|b| *b == 0) {
            return Some(Stop::Nul(self.offset + i as u64));
        }
        let start = self.offset - self.carry.len() as u64;
        self.carry.extend_from_slice(chunk);
        match std::str::from_utf8(&self.carry) {
            Ok(_) => self.carry.clear(),
            Err(e) => match e.error_len() {
                Some(_) => return Some(Stop::NotUtf8(start + e.valid_up_to() as u64)),
                // A sequence cut by the chunk's end: finished by the next.
                None => {
                    let cut = self.carry.split_off(e.valid_up_to());
                    self.carry = cut;
                }
            },
        }
        None
    }
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stop.get().is_some() {
            return Err(std::io::Error::other("input refused"));
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            if !self.carry.is_empty() {
                let at = self.offset - self.carry.len() as u64;
                self.stop.set(Some(Stop::NotUtf8(at)));
                return Err(std::io::Error::other("input refused"));
            }
            return Ok(0);
        }
        let left = self.budget.get();
        if n as u64 > left {
            self.stop.set(Some(Stop::TooLarge));
            return Err(std::io::Error::other("input too large"));
        }
        self.budget.set(left - n as u64);
        if let Some(stop) = self.check(&buf[..n]) {
            self.stop.set(Some(stop));
            return Err(std::io::Error::other("not text"));
        }
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], budget: u64, chunk: usize) -> (Vec<u8>, Option<Stop>) {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut g = Guarded::new(Chunks(bytes, chunk), Rc::new(Cell::new(budget)));
        let stop = g.stop();
        let mut out = Vec::new();
        let _ = g.read_to_end(&mut out);
        (out, stop.get())
    }

    #[test]
    fn text_cut_anywhere_is_text() {
        let text = "é ü 训练 🚀".repeat(10);
        for chunk in 1..8 {
            let (out, stop) = read_all(text.as_bytes(), 1 << 20, chunk);
            assert_eq!(stop, None);
            assert_eq!(out, text.as_bytes());
        }
    }

    #[test]
    fn nul_bytes_invalid_utf8_and_size_stop_reading() {
        assert_eq!(read_all(b"ab\0cd", 100, 2).1, Some(Stop::Nul(2)));
        assert_eq!(read_all(b"abc\xffd", 100, 2).1, Some(Stop::NotUtf8(3)));
        assert_eq!(read_all("ab\u{e9}".as_bytes(), 100, 3).1, None);
        assert_eq!(read_all(b"ab\xc3", 100, 3).1, Some(Stop::NotUtf8(2)));
        assert_eq!(read_all(b"abcdef", 4, 2).1, Some(Stop::TooLarge));
    }
}
