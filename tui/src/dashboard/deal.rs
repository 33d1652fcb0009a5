//! The Deal screen's state: which of the lead's deals is shown, the commission calculator's
//! inputs and the field being edited, and the stage picker. Its keys are its own while it is
//! open (as Compose's): see [`DealView::handle_key`].

use super::action::Action;
use leadline_shared::domain::{OpKind, Opportunity, Pipeline};
use leadline_shared::protocol::LeadDetail;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use super::commission::{self, Inputs};
use super::input::{InputOutcome, TextInput};

/// The calculator's fields, in screen order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Price,
    Agency,
    Rate,
    Split,
    Costs,
}

impl Field {
    /// Every field, top to bottom.
    pub const ALL: [Field; 5] = [Field::Price, Field::Agency, Field::Rate, Field::Split, Field::Costs];

    /// Its label.
    pub fn label(self) -> &'static str {
        match self {
            Field::Price => "Price",
            Field::Agency => "Agency",
            Field::Rate => "Rate %",
            Field::Split => "Split %",
            Field::Costs => "Costs",
        }
    }
}

/// The open stage picker: the pipeline's stages and the one highlighted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagePicker {
    /// Index into the pipeline's stages.
    pub selected: usize,
}

/// What a key did.
#[derive(Debug, Clone, PartialEq)]
pub enum DealOutcome {
    /// Nothing more to do.
    None,
    /// Close the screen.
    Close,
    /// Send this edit (a stage change).
    Edit(OpKind),
    /// Tell the agent why not.
    Refused(String),
}

/// The Deal screen.
#[derive(Debug, Clone, PartialEq)]
pub struct DealView {
    /// The lead.
    pub contact_id: String,
    /// The lead's name, for the title.
    pub lead_name: String,
    /// Which of the lead's deals (index in the detail's `opportunities`).
    pub index: usize,
    /// The calculator's inputs; `None` until the detail has arrived (then prefilled).
    pub inputs: Option<Inputs>,
    /// The field highlighted.
    pub field: usize,
    /// The field being edited, with its text.
    pub editing: Option<TextInput>,
    /// Why the last typed value was refused.
    pub error: Option<String>,
    /// The stage picker, when open.
    pub picker: Option<StagePicker>,
    /// The rate the calculator starts from, in percent (`[analytics] commission_rate`).
    pub default_rate_pct: f64,
}

impl DealView {
    /// A Deal screen for a lead, waiting for its detail.
    pub fn new(contact_id: &str, lead_name: &str, default_rate_pct: f64) -> DealView {
        DealView {
            contact_id: contact_id.to_owned(),
            lead_name: lead_name.to_owned(),
            index: 0,
            inputs: None,
            field: 0,
            editing: None,
            error: None,
            picker: None,
            default_rate_pct,
        }
    }

    /// The deal shown, from the lead's detail.
    pub fn deal<'a>(&self, detail: &'a LeadDetail) -> Option<&'a Opportunity> {
        detail.opportunities.get(self.index.min(detail.opportunities.len().saturating_sub(1)))
    }

    /// The deal's pipeline, with its stages.
    pub fn pipeline<'a>(&self, detail: &'a LeadDetail) -> Option<&'a Pipeline> {
        let deal = self.deal(detail)?;
        detail.pipelines.iter().find(|p| p.id == deal.pipeline_id)
    }

    /// The stage a pending stage change is taking the deal to, if one waits for GHL.
    pub fn pending_stage<'a>(&self, detail: &'a LeadDetail) -> Option<&'a str> {
        let deal = self.deal(detail)?;
        detail.pending_ops.iter().rev().find_map(|op| match &op.kind {
            OpKind::SetStage { opportunity_id, pipeline_stage_id } if *opportunity_id == deal.id => {
                Some(pipeline_stage_id.as_str())
            }
            _ => None,
        })
    }

    /// Takes the detail in: the calculator is prefilled from the deal's value the first time.
    pub fn loaded(&mut self, detail: &LeadDetail) {
        if self.inputs.is_none() && detail.lead.id == self.contact_id {
            self.prefill(detail);
        }
    }

    fn prefill(&mut self, detail: &LeadDetail) {
        let price = self.deal(detail).and_then(|d| d.monetary_value).unwrap_or(0.0);
        self.inputs = Some(Inputs::for_price(price, self.default_rate_pct));
    }

    /// The text a field shows.
    pub fn field_text(&self, field: Field) -> String {
        let Some(i) = &self.inputs else {
            return String::new();
        };
        match field {
            Field::Price => money(i.price),
            Field::Agency => i.agency.as_str().to_owned(),
            Field::Rate => format!("{}", i.rate_pct),
            Field::Split => format!("{}", i.split_pct),
            Field::Costs => money(i.costs),
        }
    }

    /// A key while the screen is open; `action` is what the keymap binds it to (the screen's
    /// commands are the keymap's: next-row and prev-row choose, toggle-detail (enter) edits or
    /// chooses, move-stage opens the stage picker, next-queue and prev-queue switch deals,
    /// close leaves; esc and enter always work). `detail` is the lead's, when it has arrived.
    pub fn handle_key(
        &mut self,
        key: &KeyEvent,
        action: Option<Action>,
        detail: Option<&LeadDetail>,
    ) -> DealOutcome {
        if key.kind != KeyEventKind::Press {
            return DealOutcome::None;
        }
        if let Some(input) = &mut self.editing {
            return match input.handle_key(key) {
                InputOutcome::Consumed => DealOutcome::None,
                InputOutcome::Cancel => {
                    self.editing = None;
                    DealOutcome::None
                }
                InputOutcome::Submit => {
                    let text = input.value().to_owned();
                    self.commit_field(&text);
                    DealOutcome::None
                }
            };
        }
        let stages = detail.and_then(|d| self.pipeline_stages(d)).unwrap_or_default();
        let close = key.code == KeyCode::Esc || matches!(action, Some(Action::Close | Action::Quit));
        let choose = key.code == KeyCode::Enter
            || matches!(action, Some(Action::ToggleDetail | Action::OpenDetail | Action::EditFollowUp));
        if let Some(picker) = &mut self.picker {
            match action {
                _ if close => self.picker = None,
                Some(Action::NextRow) => {
                    picker.selected = (picker.selected + 1).min(stages.len().saturating_sub(1));
                }
                Some(Action::PrevRow) => picker.selected = picker.selected.saturating_sub(1),
                _ if choose => {
                    let chosen = stages.get(picker.selected).cloned();
                    self.picker = None;
                    let (Some((stage_id, name)), Some(deal)) = (chosen, detail.and_then(|d| self.deal(d)))
                    else {
                        return DealOutcome::None;
                    };
                    let pending = detail.and_then(|d| self.pending_stage(d));
                    if pending.unwrap_or(deal.pipeline_stage_id.as_str()) == stage_id {
                        return DealOutcome::Refused(format!("The deal is already at {name}."));
                    }
                    return DealOutcome::Edit(OpKind::SetStage {
                        opportunity_id: deal.id.clone(),
                        pipeline_stage_id: stage_id,
                    });
                }
                _ => {}
            }
            return DealOutcome::None;
        }
        let deals = detail.map_or(0, |d| d.opportunities.len());
        match action {
            _ if close => return DealOutcome::Close,
            Some(Action::NextRow) => {
                self.field = (self.field + 1) % Field::ALL.len();
            }
            Some(Action::PrevRow) => {
                self.field = (self.field + Field::ALL.len() - 1) % Field::ALL.len();
            }
            Some(Action::NextQueue) if deals > 1 => self.switch_deal((self.index + 1) % deals, detail),
            Some(Action::PrevQueue) if deals > 1 => {
                self.switch_deal((self.index + deals - 1) % deals, detail)
            }
            _ if choose => {
                let field = Field::ALL[self.field];
                if field == Field::Agency {
                    if let Some(i) = &mut self.inputs {
                        i.agency = i.agency.next();
                    }
                } else if self.inputs.is_some() {
                    let text = match field {
                        Field::Price | Field::Costs => {
                            let v = self
                                .inputs
                                .map_or(0.0, |i| if field == Field::Price { i.price } else { i.costs });
                            format!("{v}")
                        }
                        _ => self.field_text(field),
                    };
                    self.editing = Some(TextInput::with_text(&text));
                }
            }
            Some(Action::MoveStage) => {
                let Some(detail) = detail else {
                    return DealOutcome::Refused("The deal is still loading.".to_owned());
                };
                let Some(deal) = self.deal(detail) else {
                    return DealOutcome::Refused("This lead has no deal to move.".to_owned());
                };
                let Some(stages) = self.pipeline_stages(detail).filter(|s| !s.is_empty()) else {
                    return DealOutcome::Refused(
                        "The deal's pipeline and its stages are not known yet: sync with GHL first."
                            .to_owned(),
                    );
                };
                let current = self.pending_stage(detail).unwrap_or(deal.pipeline_stage_id.as_str());
                let selected = stages.iter().position(|(id, _)| id == current).unwrap_or(0);
                self.picker = Some(StagePicker { selected });
            }
            _ => {}
        }
        DealOutcome::None
    }

    fn switch_deal(&mut self, index: usize, detail: Option<&LeadDetail>) {
        self.index = index;
        if let Some(detail) = detail {
            let rate = self.inputs.map_or(self.default_rate_pct, |i| i.rate_pct);
            self.prefill(detail);
            if let Some(i) = &mut self.inputs {
                i.rate_pct = rate;
            }
        }
    }

    /// The stages of the deal's pipeline, in order: (id, name).
    pub fn pipeline_stages(&self, detail: &LeadDetail) -> Option<Vec<(String, String)>> {
        let pipeline = self.pipeline(detail)?;
        let mut stages: Vec<_> = pipeline.stages.iter().enumerate().collect();
        stages.sort_by_key(|(i, s)| (s.position.unwrap_or(*i as i64), *i));
        Some(stages.into_iter().map(|(_, s)| (s.id.clone(), s.name.clone())).collect())
    }

    fn commit_field(&mut self, text: &str) {
        let field = Field::ALL[self.field];
        let Some(value) = commission::parse_number(text) else {
            self.error = Some(format!("{text:?} is not a number: type e.g. 425000, 425k or 2.5"));
            return;
        };
        let Some(inputs) = &mut self.inputs else {
            return;
        };
        use commission::{CalcError, RATE_RANGE, SPLIT_RANGE};
        // A value the calculator cannot use is refused with why, and the field stays open.
        let refused = match field {
            Field::Price if value <= 0.0 => Some(CalcError::Price),
            Field::Rate if !(RATE_RANGE.0..=RATE_RANGE.1).contains(&value) => Some(CalcError::Rate),
            Field::Split if !(SPLIT_RANGE.0..=SPLIT_RANGE.1).contains(&value) => Some(CalcError::Split),
            Field::Costs if value < 0.0 => Some(CalcError::Costs),
            _ => None,
        };
        if let Some(e) = refused {
            self.error = Some(e.to_string());
            return;
        }
        match field {
            Field::Price => inputs.price = value,
            Field::Rate => inputs.rate_pct = value,
            Field::Split => inputs.split_pct = value,
            Field::Costs => inputs.costs = value,
            Field::Agency => {}
        }
        self.error = None;
        self.editing = None;
    }
}

/// Dollars without cents, with thousands separators: `$425,000`.
pub fn money(v: f64) -> String {
    let negative = v < 0.0;
    let whole = v.abs().round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}${out}", if negative { "−" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_separators() {
        assert_eq!(money(425_000.0), "$425,000");
        assert_eq!(money(999.6), "$1,000");
        assert_eq!(money(0.0), "$0");
        assert_eq!(money(-2_000.0), "−$2,000");
    }
}
