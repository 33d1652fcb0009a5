//! The engine: pure rules (qualification, scoring, lead rows, queues, compliance gates,
//! message templates, follow-ups, the agent's own messages) and the glue that applies them to the store.

pub mod analytics;
pub mod churn;
pub mod compliance;
pub mod compose;
pub mod features;
pub mod followup;
pub mod lead;
pub mod matching;
pub mod priority;
pub mod promotion;
pub mod qualify;
pub mod queues;
pub mod rebase;
pub mod routing;
pub mod score;
pub mod search;
pub mod stage_move;
pub mod templates;
