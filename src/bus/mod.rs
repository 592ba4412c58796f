//! Message bus: msgpack frames, reading them without decoding, and how they print.
pub mod float;
pub mod pyfmt;
pub mod scan;
pub mod strict;
