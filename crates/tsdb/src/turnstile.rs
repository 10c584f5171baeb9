//! Makes commits visible one at a time in the order they were written to the WAL, while
//! letting their fsyncs overlap (group commit).

use parking_lot::{Condvar, Mutex};

/// Admits ticket holders in ticket order.
#[derive(Default)]
pub(crate) struct Turnstile {
    next: Mutex<u64>,
    turn: Condvar,
}

/// Holds the turn; passing it on happens on drop, so a failure cannot stall later commits.
pub(crate) struct Turn<'a>(&'a Turnstile);

impl Turnstile {
    /// Waits until every ticket before `ticket` has passed.
    pub(crate) fn enter(&self, ticket: u64) -> Turn<'_> {
        let mut next = self.next.lock();
        while *next != ticket {
            self.turn.wait(&mut next);
        }
        Turn(self)
    }

    /// Waits until every ticket before `ticket` has passed, without taking a turn.
    pub(crate) fn wait_past(&self, ticket: u64) {
        let mut next = self.next.lock();
        while *next < ticket {
            self.turn.wait(&mut next);
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        *self.0.next.lock() += 1;
        self.0.turn.notify_all();
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
        let handles: Vec<_> = (0..8u64)
            .rev()
            .map(|ticket| {
                let (t, order) = (Arc::clone(&t), Arc::clone(&order));
                std::thread::spawn(move || {
                    let _turn = t.enter(ticket);
                    order.lock().push(ticket);
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        assert_eq!(*order.lock(), (0..8).collect::<Vec<_>>());
    }
}
