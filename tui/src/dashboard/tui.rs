//! The terminal: entering and leaving the alternate screen, and the event task that turns
//! key presses, resizes and the clock into [`Input`]s on the driver's channel.
//!
//! The daemon's tasks (requests, pushed events, timers) send into the same channel, so the
//! driver waits on one receiver and handles everything in arrival order.

use std::io;
use std::time::Duration;

use futures::StreamExt;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::Input;

/// How often relative times and the retry countdown are redrawn.
pub const TICK: Duration = Duration::from_secs(1);

/// Restores the terminal when dropped, so an early return or error leaves a usable shell.
pub struct TerminalGuard {
    _private: (),
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if let Err(error) = ratatui::try_restore() {
            tracing::warn!(%error, "could not restore the terminal");
        }
    }
}

/// Enters raw mode and the alternate screen. `ratatui::try_init` also installs a panic hook
/// that restores the terminal before the panic message is printed, so a panic never leaves
/// the shell in raw mode.
pub fn enter() -> io::Result<(DefaultTerminal, TerminalGuard)> {
    match ratatui::try_init() {
        Ok(terminal) => Ok((terminal, TerminalGuard { _private: () })),
        Err(error) => {
            // Raw mode may already be on when entering the alternate screen fails.
            let _ = ratatui::try_restore();
            Err(error)
        }
    }
}

/// Spawns the event task. It ends when the driver drops its receiver or the terminal's input
/// ends; it is aborted when the returned handle's owner is done with it.
pub fn spawn_events(tx: UnboundedSender<Input>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = EventStream::new();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            let input = tokio::select! {
                event = events.next() => match event {
                    Some(Ok(TermEvent::Key(key))) if key.kind != KeyEventKind::Release => Input::Key(key),
                    Some(Ok(TermEvent::Resize(width, height))) => Input::Resize(width, height),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => Input::TerminalGone(error.to_string()),
                    None => Input::TerminalGone("the terminal's input ended".to_owned()),
                },
                _ = tick.tick() => Input::Tick,
            };
            let gone = matches!(input, Input::TerminalGone(_));
            if tx.send(input).is_err() || gone {
                break;
            }
        }
    })
}
