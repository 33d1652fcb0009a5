//! The engine: pure rules (qualification, scoring, lead rows, queues, message templates) and
//! the glue that applies them to the store.

pub mod lead;
pub mod qualify;
pub mod queues;
pub mod rebase;
pub mod score;
pub mod templates;
