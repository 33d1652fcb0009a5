//! The dashboard's keyboard beyond single keys, its mouse, marks and themes: the command
//! palette, `g` sequences, marks with bulk actions, clicks on tabs and rows, and the colours of
//! each theme (and of none, with `NO_COLOR`), driven like a user through [`Harness`].

#![allow(clippy::unwrap_used)]

use jiff::SignedDuration;
use leadline_shared::domain::OpKind;
use leadline_shared::protocol::QueueName;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{MouseButton, MouseEventKind};
use ratatui::style::{Color, Modifier, Style};

use super::action::Action;
use super::app::{BulkCommand, BulkItem, Effect, FlashKind, Screen, Update};
use super::tests::{Harness, SIZES, assert_screen, mouse, now};
use super::theme::{Theme, ThemeName};

fn bulk_effects(effects: &[Effect]) -> Vec<(u64, BulkItem)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Bulk { job, item } => Some((*job, item.clone())),
            _ => None,
        })
        .collect()
}

fn footer(t: &mut Harness) -> String {
    t.screen().lines().last().unwrap().trim_matches('"').to_owned()
}

// --- sequences ---------------------------------------------------------------------------

#[test]
fn g_and_a_letter_go_to_screens_and_g_g_to_the_first_lead() {
    let mut t = Harness::all_leads(80, 24, 40);
    t.press("j j j");
    assert_eq!(t.app.view().selected, 3);
    t.press("g g");
    assert_eq!(t.app.view().selected, 0, "g g is first-row");
    t.press("g h");
    assert_eq!(t.app.current_queue(), &QueueName::Hot);
    t.press("g n");
    assert_eq!(t.app.current_queue(), &QueueName::SpeedToLead);
    t.press("g r");
    assert_eq!(t.app.current_queue(), &QueueName::NeedsReply);
    t.press("g d");
    assert_eq!(t.app.current_queue(), &QueueName::Due);
    t.press("g z");
    assert_eq!(t.app.current_queue(), &QueueName::Dormant);
    t.press("g a");
    assert_eq!(t.app.current_queue(), &QueueName::All);
    t.press("g f");
    assert_eq!(t.app.screen(), Screen::FollowUps);
    t.press("g y");
    assert_eq!(t.app.screen(), Screen::Analytics);
    t.press("g s");
    assert_eq!(t.app.screen(), Screen::Search);
    assert!(t.app.search().editing, "g s types in the query");
    // Typed in the query, g is a letter, not a sequence.
    t.type_text("gh");
    assert_eq!(t.app.search().query(), "gh");
    assert!(t.app.pending_keys().is_empty());
}

#[test]
fn a_started_sequence_waits_in_the_footer_until_esc_a_stray_key_or_its_time_is_up() {
    let mut t = Harness::all_leads(80, 24, 40);
    t.press("enter g");
    assert_eq!(t.app.pending_keys().len(), 1);
    let line = footer(&mut t);
    assert!(line.starts_with(" g…"), "{line}");
    assert!(line.contains("g first lead") && line.contains("esc cancels"), "{line}");
    // Esc drops the sequence and nothing else: the open lead stays open.
    t.press("esc");
    assert!(t.app.pending_keys().is_empty());
    assert!(t.app.detail_open(), "esc cancelled the sequence only");
    // A key that continues nothing drops it too, and does not act.
    t.press("g j");
    assert!(t.app.pending_keys().is_empty());
    assert_eq!(t.app.view().selected, 0);
    // Time runs out.
    t.press("g");
    t.update(Update::Tick { now: now().checked_add(SignedDuration::from_secs(2)).unwrap() });
    assert!(t.app.pending_keys().is_empty(), "the tick dropped the lapsed sequence");
    t.app.set_now(now().checked_add(SignedDuration::from_secs(10)).unwrap());
    t.press("g");
    t.app.set_now(now().checked_add(SignedDuration::from_secs(12)).unwrap());
    t.press("h");
    assert_eq!(t.app.current_queue(), &QueueName::All, "h after the timeout is h alone (unbound)");
}

#[test]
fn snapshot_pending_sequence() {
    for (w, h) in SIZES {
        let mut t = Harness::all_leads(w, h, 40);
        t.press("g");
        assert_screen(&format!("pending_g_{w}x{h}"), t.draw());
    }
}

#[test]
fn help_lists_the_sequences() {
    let mut t = Harness::online(160, 48);
    t.press("?");
    let screen = t.screen();
    assert!(screen.contains("2, g h") && screen.contains("queue 2: hot"), "{screen}");
    assert!(screen.contains("g g, home"), "{screen}");
    assert!(screen.contains(":, ctrl-p") && screen.contains("command palette"), "{screen}");
}

// --- the command palette ----------------------------------------------------------------

#[test]
fn snapshot_palette() {
    for (w, h) in SIZES {
        let mut t = Harness::all_leads(w, h, 40);
        t.press(":");
        assert!(t.app.palette().is_some());
        assert_screen(&format!("palette_{w}x{h}"), t.draw());
        t.type_text("tag");
        assert_screen(&format!("palette_query_{w}x{h}"), t.draw());
    }
}

#[test]
fn the_palette_runs_the_chosen_action_as_its_key_would() {
    let mut t = Harness::all_leads(80, 24, 40);
    t.press(":");
    t.type_text("sync");
    assert_eq!(t.app.palette().unwrap().chosen(), Some(Action::SyncNow));
    t.type_text("\n");
    assert!(t.app.palette().is_none(), "enter closes it");
    assert!(t.other.contains(&Effect::SyncNow), "{:?}", t.other);

    // Up and down choose; esc closes without running anything.
    t.press(":");
    t.press("down down up");
    assert_eq!(t.app.palette().unwrap().selected, 1);
    t.press("esc");
    assert!(t.app.palette().is_none());

    // Going somewhere: the follow-ups screen, by a few letters of its name.
    t.press(":");
    t.type_text("folups\n");
    assert_eq!(t.app.screen(), Screen::FollowUps);

    // The keys typed in the palette are text: q does not quit, j does not move.
    t.press("g a :");
    let effects = t.app.handle_key(&ratatui::crossterm::event::KeyEvent::new(
        ratatui::crossterm::event::KeyCode::Char('q'),
        ratatui::crossterm::event::KeyModifiers::NONE,
    ));
    assert!(!effects.contains(&Effect::Quit));
    assert_eq!(t.app.palette().unwrap().input.value(), "q");
}

#[test]
fn a_lead_action_from_the_palette_with_no_lead_says_so() {
    let mut t = Harness::online(80, 24);
    t.press("4");
    assert_eq!(t.app.current_queue(), &QueueName::Due, "the fixture's due queue is empty");
    t.press(":");
    t.type_text("add-tag\n");
    let flash = t.app.flash().unwrap();
    assert_eq!(flash.kind, FlashKind::Error);
    assert_eq!(flash.text, "add-tag needs a lead: select one in a queue or a search first.");
    assert!(t.app.prompt().is_none());

    t.press(":");
    t.type_text("open-detail\n");
    assert!(t.app.flash().unwrap().text.starts_with("open-detail needs a lead"));
}

// --- marks and bulk actions -------------------------------------------------------------

#[test]
fn space_v_and_shift_v_mark_and_esc_clears() {
    let mut t = Harness::all_leads(80, 24, 40);
    t.press("space j v j");
    assert_eq!(t.app.lead_marks().keys().cloned().collect::<Vec<_>>(), ["c00000", "c00001"]);
    t.press("k space");
    assert_eq!(t.app.lead_marks().len(), 1, "marking again unmarks");
    t.press("V");
    assert_eq!(t.app.lead_marks().len(), 18, "every row on screen (80x24 shows 18)");
    // Marks follow the lead, not the row: another queue shows the same leads marked.
    t.press("esc");
    assert!(t.app.lead_marks().is_empty());
    // With a lead open, esc closes it first, then clears the marks.
    t.press("space enter esc");
    assert_eq!(t.app.lead_marks().len(), 1);
    t.press("esc");
    assert!(t.app.lead_marks().is_empty());
}

#[test]
fn a_bulk_tag_sends_one_edit_per_marked_lead_and_counts_the_answers() {
    let mut t = Harness::all_leads(80, 24, 40);
    t.press("space j space j space t");
    let prompt = t.app.prompt().unwrap();
    assert_eq!(prompt.lead_name, "3 marked leads");
    t.type_text("VIP\n");
    let sent = bulk_effects(&t.other);
    assert_eq!(sent.len(), 3, "{:?}", t.other);
    let ids: Vec<&str> = sent.iter().map(|(_, i)| i.contact_id.as_str()).collect();
    assert_eq!(ids, ["c00000", "c00001", "c00002"]);
    assert!(sent.iter().all(|(_, i)| i.command == BulkCommand::Edit(OpKind::AddTag { tag: "VIP".into() })));
    assert_eq!(t.app.flash().unwrap().text, "tagging 0/3…");

    let (job, first) = sent[0].clone();
    t.update(Update::BulkItemDone { job, item: first, error: None });
    assert_eq!(t.app.flash().unwrap().text, "tagging 1/3…");
    assert_eq!(t.app.lead_marks().len(), 2, "a lead done is unmarked");
    // A second bulk action waits for this one.
    t.press("T");
    assert!(t.app.flash().unwrap().text.starts_with("A bulk action is still running (tagging 1/3…)"));
    t.press("esc");
    assert_eq!(t.app.lead_marks().len(), 2, "esc dismissed the message first");

    let (_, second) = sent[1].clone();
    let error = "tag names may not exceed 64 characters".to_owned();
    t.update(Update::BulkItemDone { job, item: second, error: Some(error) });
    t.other.clear();
    let (_, third) = sent[2].clone();
    t.update(Update::BulkItemDone { job, item: third, error: None });
    let flash = t.app.flash().unwrap();
    assert_eq!(flash.kind, FlashKind::Error);
    assert_eq!(
        flash.text,
        "tag 'VIP': 2 of 3 done, 1 failed (still marked): James Whitaker: tag names may not exceed 64 characters"
    );
    assert_eq!(t.app.lead_marks().keys().collect::<Vec<_>>(), ["c00001"], "the failure stays marked");
    assert!(t.app.bulk().is_none());
    // Answers to an old job are not counted again.
    t.update(Update::BulkItemDone { job, item: sent[0].1.clone(), error: None });
    assert_eq!(t.app.flash().unwrap().kind, FlashKind::Error);
}

#[test]
fn assign_prompts_for_a_user_id_for_one_lead_or_all_marked() {
    let mut t = Harness::all_leads(80, 24, 40);
    t.press("u");
    assert_eq!(t.app.prompt().unwrap().kind.title(), "Assign to user");
    t.type_text("user-7\n");
    assert!(t.other.iter().any(|e| matches!(
        e,
        Effect::Edit { contact_id, op: OpKind::Assign { user_id } } if contact_id == "c00000" && user_id == "user-7"
    )));
    t.other.clear();
    t.press("V u");
    t.type_text("user-7\n");
    let sent = bulk_effects(&t.other);
    assert_eq!(sent.len(), 18);
    assert_eq!(t.app.flash().unwrap().text, "assigning 0/18…");
}

#[test]
fn marked_follow_ups_are_approved_one_request_each() {
    let mut t = Harness::online(80, 24);
    t.press("7 space j space");
    assert_eq!(t.app.followup_marks().len(), 2);
    t.press("a");
    let sent = bulk_effects(&t.other);
    assert_eq!(sent.len(), 2, "{:?}", t.other);
    assert!(sent.iter().all(|(_, i)| matches!(i.command, BulkCommand::Approve { .. })));
    assert_eq!(t.app.flash().unwrap().text, "approving 0/2…");
    for (job, item) in sent {
        t.update(Update::BulkItemDone { job, item, error: None });
    }
    assert_eq!(t.app.flash().unwrap().text, "Done: 2 marked follow-ups approved.");
    assert!(t.app.followup_marks().is_empty());
}

#[test]
fn snapshot_marked_rows_with_bulk_progress() {
    for (w, h) in SIZES {
        let mut t = Harness::all_leads(w, h, 40);
        t.press("space j j space j space t");
        t.type_text("VIP\n");
        let sent = bulk_effects(&t.other);
        let (job, item) = sent[0].clone();
        t.update(Update::BulkItemDone { job, item, error: None });
        assert_screen(&format!("marked_bulk_{w}x{h}"), t.draw());
    }
}

// --- mouse ------------------------------------------------------------------------------

#[test]
fn a_click_on_a_tab_shows_it_and_the_wheel_moves_every_table() {
    let mut t = Harness::online(160, 48);
    let tabs = t.screen().lines().next().unwrap().to_owned();
    let column = |label: &str| tabs[..tabs.find(label).unwrap()].chars().count() as u16;
    let click = |t: &mut Harness, x: u16, y: u16| {
        let effects = t.app.handle_mouse(&mouse(MouseEventKind::Down(MouseButton::Left), x, y));
        t.run(effects);
    };
    click(&mut t, column("2 Hot"), 0);
    assert_eq!(t.app.current_queue(), &QueueName::Hot);
    click(&mut t, column("7 Follow-ups"), 0);
    assert_eq!(t.app.screen(), Screen::FollowUps);
    // The wheel moves the follow-ups' selection, a click selects a row.
    let wheel = t.app.handle_mouse(&mouse(MouseEventKind::ScrollDown, 20, 10));
    t.run(wheel);
    assert_eq!(t.app.followups().selected, 3);
    click(&mut t, 20, 4);
    assert_eq!(t.app.followups().selected, 1, "the second row (below the tabs, border and header)");
    click(&mut t, column("8 Analytics"), 0);
    assert_eq!(t.app.screen(), Screen::Analytics);
    // The brand is no tab.
    click(&mut t, 1, 0);
    assert_eq!(t.app.screen(), Screen::Analytics);

    // Search results too; a click on the tab the search came from goes back to it.
    t.press("1 /");
    t.type_text("a");
    t.elapse();
    let wheel = t.app.handle_mouse(&mouse(MouseEventKind::ScrollDown, 20, 10));
    t.run(wheel);
    assert_eq!(t.app.search().selected, 3);
    click(&mut t, column("1 Speed-to-lead"), 0);
    assert_eq!(t.app.screen(), Screen::Queue);

    // Nothing while the palette is open.
    t.press(":");
    click(&mut t, column("2 Hot"), 0);
    assert_eq!(t.app.current_queue(), &QueueName::SpeedToLead);
}

// --- themes -----------------------------------------------------------------------------

/// The screen's text, then its styles: each distinct style gets a letter (`.` is the
/// default), and each row is written as its letters, so a snapshot shows where every colour
/// and modifier goes.
fn styled(backend: &TestBackend) -> String {
    let buffer: &Buffer = backend.buffer();
    let mut legend: Vec<Style> = Vec::new();
    let mut rows = Vec::new();
    for y in 0..buffer.area.height {
        let mut row = String::new();
        for x in 0..buffer.area.width {
            let style = buffer[(x, y)].style();
            let plain = Style { underline_color: None, ..Style::new().fg(Color::Reset).bg(Color::Reset) };
            let style = Style { underline_color: None, ..style };
            if style == plain || style == Style::default() {
                row.push('.');
                continue;
            }
            let i = legend.iter().position(|s| *s == style).unwrap_or_else(|| {
                legend.push(style);
                legend.len() - 1
            });
            row.push(char::from_digit(i as u32 % 36, 36).unwrap());
        }
        rows.push(row);
    }
    let legend: Vec<String> = legend
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "{}: fg {:?} bg {:?} {:?}",
                char::from_digit(i as u32 % 36, 36).unwrap(),
                s.fg,
                s.bg,
                s.add_modifier
            )
        })
        .collect();
    format!("{backend}\n{}\n\n{}", legend.join("\n"), rows.join("\n"))
}

fn themed(theme: Theme, w: u16, h: u16) -> Harness {
    let mut t = Harness::all_leads(w, h, 40);
    t.app.set_theme(theme);
    t.press("j j");
    t
}

#[test]
fn snapshot_themes() {
    let themes = [
        ("dark", Theme::new(ThemeName::Dark)),
        ("light", Theme::new(ThemeName::Light)),
        ("high_contrast", Theme::new(ThemeName::HighContrast)),
        ("no_color", Theme::no_color(ThemeName::Dark)),
    ];
    for (name, theme) in themes {
        for (w, h) in SIZES {
            let mut t = themed(theme, w, h);
            let text = styled(t.draw());
            let mut settings = insta::Settings::clone_current();
            settings.set_prepend_module_to_snapshot(false);
            settings.bind(|| insta::assert_snapshot!(format!("theme_{name}_{w}x{h}"), text));
        }
    }
}

#[test]
fn each_theme_colours_the_selection_and_the_active_tab_its_own_way() {
    let cell_style = |t: &mut Harness, x: u16, y: u16| t.draw().buffer()[(x, y)].style();
    // Row 5 is the third lead (tabs, border, header, two rows), the selected one.
    let mut dark = themed(Theme::new(ThemeName::Dark), 80, 24);
    assert_eq!(cell_style(&mut dark, 10, 5).bg, Some(Color::DarkGray));
    let mut light = themed(Theme::new(ThemeName::Light), 80, 24);
    assert_eq!(cell_style(&mut light, 10, 5).bg, Some(Color::Indexed(253)));
    let mut contrast = themed(Theme::new(ThemeName::HighContrast), 80, 24);
    assert_eq!(cell_style(&mut contrast, 10, 5).bg, Some(Color::White));
    assert_eq!(cell_style(&mut contrast, 10, 5).fg, Some(Color::Black));
}

#[test]
fn no_color_draws_no_colour_anywhere_and_keeps_the_selection_visible() {
    let screens: [&str; 6] = ["", "enter", "7", "8", "/", ":"];
    for keys in screens {
        for (w, h) in SIZES {
            let mut t = themed(Theme::no_color(ThemeName::HighContrast), w, h);
            t.press(keys);
            if keys == "/" {
                t.type_text("a");
                t.elapse();
            }
            let backend = t.draw();
            let buffer = backend.buffer();
            for y in 0..h {
                for x in 0..w {
                    let cell = &buffer[(x, y)];
                    assert_eq!(
                        (cell.fg, cell.bg),
                        (Color::Reset, Color::Reset),
                        "{keys:?} {w}x{h} at {x},{y}"
                    );
                }
            }
            if keys.is_empty() {
                assert!(
                    buffer[(10, 5)].modifier.contains(Modifier::REVERSED),
                    "the selected row is reversed"
                );
                // The active tab (the sixth, All) is reversed too.
                let tabs: String = (0..w).map(|x| buffer[(x, 0)].symbol().to_owned()).collect();
                let all = tabs[..tabs.find("6 All").unwrap()].chars().count() as u16;
                assert!(buffer[(all, 0)].modifier.contains(Modifier::REVERSED), "{tabs}");
            }
        }
    }
}

#[test]
fn marked_leads_move_to_a_stage_by_name_and_enroll_in_a_workflow() {
    let mut t = Harness::all_leads(80, 24, 40);
    t.press("space j space S");
    assert_eq!(t.app.prompt().unwrap().lead_name, "2 marked leads");
    t.type_text("Showing\n");
    let sent = bulk_effects(&t.other);
    let ids: Vec<&str> = sent.iter().map(|(_, i)| i.contact_id.as_str()).collect();
    assert_eq!(ids, ["c00000", "c00001"]);
    assert!(sent.iter().all(|(_, i)| i.command == BulkCommand::MoveDeal { stage: "Showing".into() }));
    assert_eq!(t.app.flash().unwrap().text, "moving 0/2…");
    for (job, item) in sent {
        t.update(Update::BulkItemDone { job, item, error: None });
    }
    assert!(t.app.lead_marks().is_empty() && t.app.bulk().is_none());

    // One lead, no marks: the same request, counted the same way.
    t.other.clear();
    t.press("S");
    assert_eq!(t.app.prompt().unwrap().lead_name, "James Whitaker");
    t.type_text("Offer\n");
    let sent = bulk_effects(&t.other);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.contact_id, "c00001");

    // A workflow, for every marked lead.
    for (job, item) in sent {
        t.update(Update::BulkItemDone { job, item, error: None });
    }
    t.other.clear();
    t.press("V W");
    t.type_text("Buyer nurture\n");
    let sent = bulk_effects(&t.other);
    assert_eq!(sent.len(), 18);
    let op = OpKind::EnrollWorkflow { workflow_id: "Buyer nurture".into() };
    assert!(sent.iter().all(|(_, i)| i.command == BulkCommand::Edit(op.clone())));
    assert_eq!(t.app.flash().unwrap().text, "enrolling 0/18…");
}

#[test]
fn d_drafts_a_reply_for_the_selected_lead_and_says_where_it_waits() {
    use leadline_shared::domain::{FollowUpItem, StepAction};
    use leadline_shared::protocol::{AssistReport, FollowUpView};
    let mut t = Harness::all_leads(80, 24, 40);
    t.other.clear();
    t.press("j D");
    assert!(t.other.contains(&Effect::Draft { contact_id: "c00001".into() }), "{:?}", t.other);
    assert_eq!(t.app.flash().unwrap().text, "Drafting a reply…");
    let now = jiff::Timestamp::UNIX_EPOCH;
    let action = StepAction::SendSms { template: "cadence_checkin".into() };
    let mut item =
        FollowUpItem::new("c00001/assist/1".into(), "c00001".into(), "assist".into(), 0, action, now, now);
    item.edited = Some("Hi James, free Saturday?".into());
    let report = AssistReport {
        draft: FollowUpView { item, lead_name: "James Whitaker".into() },
        preferences: Default::default(),
        source: "local".into(),
        fallback_reason: Some("the Anthropic API is busy or rate limited (529)".into()),
    };
    t.update(Update::Drafted(Box::new(report)));
    let flash = t.app.flash().unwrap();
    assert_eq!(flash.kind, FlashKind::Success);
    assert!(
        flash.text.starts_with("Draft for James Whitaker by the local rules (the Anthropic API is busy"),
        "{}",
        flash.text
    );
    assert!(flash.text.ends_with("on the Follow-ups screen: \"Hi James, free Saturday?\""), "{}", flash.text);
}
