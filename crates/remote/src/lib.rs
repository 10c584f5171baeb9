//! Remote write 1.0: codec, sender with an on-disk queue, receiver decoding with limits.
