//! Makes commits visible one at a time in the order they were written to the WAL, while
//! letting their fsyncs overlap (group commit).

use parking_lot::{Condvar, Mutex};

/// Condition variables a waiter picks by its ticket: passing the turn wakes only the
/// holder of the next ticket (and any ticket 16 apart), not every waiting commit, each of
/// which would otherwise wake, see it is not its turn and sleep again.
const SLOTS: usize = 16;

/// Admits ticket holders in ticket order.
#[derive(Default)]
pub(crate) struct Turnstile {
    next: Mutex<u64>,
    turn: [Condvar; SLOTS],
}

/// Holds the turn; passing it on happens on drop, so a failure cannot stall later commits.
pub(crate) struct Turn<'a>(&'a Turnstile);

impl Turnstile {
    fn slot(&self, ticket: u64) -> &Condvar {
        &self.turn[(ticket % SLOTS as u64) as usize]
    }

    /// Waits until every ticket before `ticket` has passed.
    pub(crate) fn enter(&self, ticket: u64) -> Turn<'_> {
        let mut next = self.next.lock();
        while *next != ticket {
            self.slot(ticket).wait(&mut next);
        }
        Turn(self)
    }

    /// Waits until every ticket before `ticket` has passed, without taking a turn.
    pub(crate) fn wait_past(&self, ticket: u64) {
        let mut next = self.next.lock();
        while *next < ticket {
            self.slot(ticket).wait(&mut next);
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut next = self.0.next.lock();
        *next += 1;
        // Whoever holds the next ticket, or waits for it to come up.
        self.0.slot(*next).notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn admits_in_ticket_order_whatever_the_arrival_order() {
        let t = Arc::new(Turnstile::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        // More tickets than condition variables, so some share one.
        let n = 3 * SLOTS as u64 + 1;
        let past = {
            let t = Arc::clone(&t);
            std::thread::spawn(move || t.wait_past(n))
        };
        let handles: Vec<_> = (0..n)
            .rev()
            .map(|ticket| {
                let (t, order) = (Arc::clone(&t), Arc::clone(&order));
                std::thread::spawn(move || {
                    let _turn = t.enter(ticket);
                    order.lock().push(ticket);
                })
            })
            .collect();
        // A lost wake-up would hang the joins: wait for them with a deadline instead.
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for h in handles {
                h.join().expect("thread");
            }
            past.join().expect("waiter past the last ticket");
            let _ = done.send(());
        });
        finished
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("every ticket holder and the waiter got through");
        assert_eq!(*order.lock(), (0..n).collect::<Vec<_>>());
    }
}
