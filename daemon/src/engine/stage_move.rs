//! Which deal a "move to stage NAME" acts on, and which stage NAME is: the rule behind moving
//! many leads' deals at once, where the agent types a stage's name rather than picking each
//! deal's stage id.

use leadline_shared::domain::{Opportunity, OpportunityStatus, Pipeline};

/// Why a lead's deal cannot be moved to the stage asked for; each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageMoveError {
    #[error("the lead has no deal in GHL; create one in GHL first")]
    NoDeal,
    #[error("the lead has no open deal (all are won, lost or abandoned); reopen one on the Deal screen")]
    NoOpenDeal,
    #[error("the stage name is empty; type a stage's name, e.g. Showing")]
    EmptyName,
    #[error("pipeline {pipeline:?} has no stage {name:?}; its stages are: {stages}")]
    NoSuchStage { pipeline: String, name: String, stages: String },
    #[error("{name:?} matches several stages of pipeline {pipeline:?} ({matches}); type more of the name")]
    Ambiguous { pipeline: String, name: String, matches: String },
}

/// The deal to move and the stage to move it to: `(opportunity id, stage id)`.
///
/// The deal is the lead's open deal changed most recently (a lead with one open deal: that
/// one). The stage is found in that deal's pipeline by name, ignoring case and surrounding
/// space: an exact name wins, else the one stage whose name starts with what was typed.
/// A deal already in that stage is still returned: moving it is a no-op the agent asked for.
pub fn resolve(
    deals: &[Opportunity],
    pipelines: &[Pipeline],
    name: &str,
) -> Result<(String, String), StageMoveError> {
    let wanted = name.trim().to_lowercase();
    if wanted.is_empty() {
        return Err(StageMoveError::EmptyName);
    }
    if deals.is_empty() {
        return Err(StageMoveError::NoDeal);
    }
    let deal = deals
        .iter()
        .filter(|d| d.status == OpportunityStatus::Open)
        .max_by_key(|d| (d.updated_at.or(d.created_at), d.id.as_str()))
        .ok_or(StageMoveError::NoOpenDeal)?;
    let pipeline = pipelines.iter().find(|p| p.id == deal.pipeline_id);
    let pipeline_name = pipeline.map_or_else(|| deal.pipeline_id.clone(), |p| p.name.clone());
    let stages = pipeline.map(|p| p.stages.as_slice()).unwrap_or_default();
    let lower = |s: &str| s.trim().to_lowercase();
    if let Some(stage) = stages.iter().find(|s| lower(&s.name) == wanted) {
        return Ok((deal.id.clone(), stage.id.clone()));
    }
    let starts: Vec<_> = stages.iter().filter(|s| lower(&s.name).starts_with(&wanted)).collect();
    match starts.as_slice() {
        [one] => Ok((deal.id.clone(), one.id.clone())),
        [] => Err(StageMoveError::NoSuchStage {
            pipeline: pipeline_name,
            name: name.trim().to_owned(),
            stages: stages.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
        }),
        many => Err(StageMoveError::Ambiguous {
            pipeline: pipeline_name,
            name: name.trim().to_owned(),
            matches: many.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadline_shared::domain::Stage;

    fn pipeline() -> Pipeline {
        let stage = |id: &str, name: &str| Stage { id: id.into(), name: name.into(), ..Stage::default() };
        Pipeline {
            id: "p1".into(),
            name: "Buyers".into(),
            stages: vec![
                stage("s1", "New lead"),
                stage("s2", "Showing"),
                stage("s3", "Offer made"),
                stage("s4", "Offer accepted"),
            ],
            ..Pipeline::default()
        }
    }

    fn deal(id: &str, status: OpportunityStatus, updated: &str) -> Opportunity {
        Opportunity {
            id: id.into(),
            pipeline_id: "p1".into(),
            pipeline_stage_id: "s1".into(),
            status,
            updated_at: Some(updated.parse().expect("timestamp")),
            ..Opportunity::default()
        }
    }

    #[test]
    fn the_latest_open_deal_moves_to_the_stage_named() {
        let deals = [
            deal("old", OpportunityStatus::Open, "2026-10-01T00:00:00Z"),
            deal("won", OpportunityStatus::Won, "2026-11-30T00:00:00Z"),
            deal("new", OpportunityStatus::Open, "2026-11-01T00:00:00Z"),
        ];
        let got = resolve(&deals, &[pipeline()], "  showing ");
        assert_eq!(got, Ok(("new".into(), "s2".into())));
        // A unique start of a name is enough; an exact name beats a longer one it starts.
        assert_eq!(resolve(&deals, &[pipeline()], "new"), Ok(("new".into(), "s1".into())));
        assert_eq!(resolve(&deals, &[pipeline()], "Offer a"), Ok(("new".into(), "s4".into())));
    }

    #[test]
    fn each_refusal_says_why() {
        let p = [pipeline()];
        assert_eq!(resolve(&[], &p, "Showing"), Err(StageMoveError::NoDeal));
        let closed = [deal("d", OpportunityStatus::Lost, "2026-11-01T00:00:00Z")];
        assert_eq!(resolve(&closed, &p, "Showing"), Err(StageMoveError::NoOpenDeal));
        let open = [deal("d", OpportunityStatus::Open, "2026-11-01T00:00:00Z")];
        assert_eq!(resolve(&open, &p, " "), Err(StageMoveError::EmptyName));
        let none = resolve(&open, &p, "Closed").expect_err("no such stage");
        assert_eq!(
            none.to_string(),
            "pipeline \"Buyers\" has no stage \"Closed\"; its stages are: New lead, Showing, Offer made, Offer accepted"
        );
        let two = resolve(&open, &p, "offer").expect_err("two stages start so");
        assert!(matches!(two, StageMoveError::Ambiguous { .. }), "{two}");
        assert!(two.to_string().contains("Offer made, Offer accepted"), "{two}");
    }
}
