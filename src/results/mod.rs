//! The results of a run: one record of every message (HDR histograms and per-second series), and
//! what is made from it: thresholds, the JSON summary and the HTML report.
pub mod charts;
pub mod folder;
pub mod html;
pub mod message;
pub mod publish;
pub mod record;
pub mod summary;
pub mod threshold;

pub use message::Message;
pub use publish::{Outputs, Published};
pub use record::RunRecord;
pub use threshold::Threshold;
