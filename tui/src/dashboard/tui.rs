//! The terminal: entering and leaving the alternate screen (with mouse reporting on, for the
//! wheel and clicks), and the event task that turns key presses, wheel notches, clicks,
//! resizes and the clock into [`Input`]s on the driver's channel.
//!
//! The daemon's tasks (requests, pushed events, timers) send into the same channel, so the
//! driver waits on one receiver and handles everything in arrival order.

use std::io;
use std::time::Duration;

use futures::StreamExt;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, Event as TermEvent, EventStream, KeyEventKind, MouseButton,
    MouseEventKind,
};
use ratatui::crossterm::execute;
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
        // Left on, the shell would print an escape sequence for every mouse move.
        let _ = execute!(io::stdout(), DisableMouseCapture);
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
        Ok(terminal) => {
            // Mouse reporting is a nicety: a terminal without it still has every key.
            if let Err(error) = execute!(io::stdout(), EnableMouseCapture) {
                tracing::debug!(%error, "no mouse reporting");
            }
            // ratatui's panic hook restores the terminal but knows nothing of the mouse.
            let restore = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let _ = execute!(io::stdout(), DisableMouseCapture);
                restore(info);
            }));
            Ok((terminal, TerminalGuard { _private: () }))
        }
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
                    // Only what the dashboard uses: pointer moves would cost a frame each.
                    Some(Ok(TermEvent::Mouse(mouse)))
                        if matches!(
                            mouse.kind,
                            MouseEventKind::ScrollDown
                                | MouseEventKind::ScrollUp
                                | MouseEventKind::Down(MouseButton::Left)
                        ) =>
                    {
                        Input::Mouse(mouse)
                    }
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
