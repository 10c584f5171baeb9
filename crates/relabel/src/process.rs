//! Applying a chain of rules to a label set.

use model::{Labels, LabelsBuilder};

use crate::case::{go_to_lower, go_to_upper};
use crate::config::{Action, RelabelConfig};
use crate::expand::expand_into;

/// Applies `configs` in order to a copy of `labels`; `None` when a rule drops the set.
pub fn process(labels: &Labels, configs: &[RelabelConfig]) -> Option<Labels> {
    let mut lb = LabelsBuilder::new(labels.clone());
    process_builder(&mut lb, configs).then(|| lb.build())
}

/// Applies `configs` in order to `lb` in place; false when a rule drops the set
/// (`lb` is then left part-way and should be discarded).
pub fn process_builder(lb: &mut LabelsBuilder, configs: &[RelabelConfig]) -> bool {
    // Only labelmap observes the order in which rules added labels (see `AddOrder`),
    // so the bookkeeping is skipped for chains without it.
    let mut order = configs
        .iter()
        .any(|c| c.action == Action::LabelMap)
        .then(AddOrder::default);
    let mut scratch = Scratch::default();
    configs
        .iter()
        .all(|cfg| apply(cfg, lb, order.as_mut(), &mut scratch))
}

/// Buffers reused across the rules of one call.
#[derive(Default)]
struct Scratch {
    value: String,
    target: String,
    result: String,
}

/// Names set by earlier rules of this call, in the order they were first set.
///
/// Prometheus's label builder enumerates untouched labels in name order and
/// then labels set by rules in the order they were set; when labelmap maps two
/// names onto one, the last one enumerated wins, so that order is kept here.
#[derive(Default)]
struct AddOrder(Vec<String>);

impl AddOrder {
    fn set(&mut self, name: &str, value: &str) {
        if value.is_empty() {
            self.del(name);
        } else if !self.0.iter().any(|n| n == name) {
            self.0.push(name.to_string());
        }
    }

    fn del(&mut self, name: &str) {
        self.0.retain(|n| n != name);
    }

    /// The labels of `lb` in Prometheus's enumeration order.
    fn snapshot(&self, lb: &LabelsBuilder) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = lb
            .iter()
            .filter(|l| !self.0.iter().any(|n| *n == l.name))
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect();
        out.extend(
            self.0
                .iter()
                .filter_map(|n| lb.get(n).map(|v| (n.clone(), v.to_string()))),
        );
        out
    }
}

/// Sets a label, recording the addition for labelmap's enumeration order.
fn set(lb: &mut LabelsBuilder, order: Option<&mut AddOrder>, name: &str, value: &str) {
    if let Some(o) = order {
        o.set(name, value);
    }
    lb.set(name, value);
}

fn del(lb: &mut LabelsBuilder, order: Option<&mut AddOrder>, name: &str) {
    if let Some(o) = order {
        o.del(name);
    }
    lb.del(name);
}

/// Joins the source label values with the separator into `out`.
fn source_value(cfg: &RelabelConfig, lb: &LabelsBuilder, out: &mut String) {
    out.clear();
    for (i, name) in cfg.source_labels().iter().enumerate() {
        if i > 0 {
            out.push_str(&cfg.separator);
        }
        out.push_str(lb.get(name).unwrap_or(""));
    }
}

/// Applies one rule; false when it drops the label set.
fn apply(
    cfg: &RelabelConfig,
    lb: &mut LabelsBuilder,
    order: Option<&mut AddOrder>,
    scratch: &mut Scratch,
) -> bool {
    source_value(cfg, lb, &mut scratch.value);
    let val = scratch.value.as_str();
    match cfg.action {
        Action::Drop => return !cfg.regex().is_match(val),
        Action::Keep => return cfg.regex().is_match(val),
        Action::DropEqual => return lb.get(&cfg.target_label).unwrap_or("") != val,
        Action::KeepEqual => return lb.get(&cfg.target_label).unwrap_or("") == val,
        Action::Replace => replace(cfg, lb, order, scratch),
        Action::Lowercase => set(lb, order, &cfg.target_label, &go_to_lower(val)),
        Action::Uppercase => set(lb, order, &cfg.target_label, &go_to_upper(val)),
        Action::HashMod => {
            // Unvalidated rules may carry modulus 0; leave the labels alone rather than divide by 0.
            if let Some(m) = hash_mod(val, cfg.modulus) {
                set(lb, order, &cfg.target_label, &m.to_string());
            }
        }
        Action::LabelMap => label_map(cfg, lb, order, scratch),
        Action::LabelDrop => filter_names(cfg, lb, order, false),
        Action::LabelKeep => filter_names(cfg, lb, order, true),
    }
    true
}

/// md5 of `val`, its last 8 bytes read big-endian, modulo `modulus` (as Prometheus).
pub(crate) fn hash_mod(val: &str, modulus: u64) -> Option<u64> {
    let digest = md5::compute(val.as_bytes()).0;
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&digest[8..]);
    u64::from_be_bytes(tail).checked_rem(modulus)
}

fn replace(
    cfg: &RelabelConfig,
    lb: &mut LabelsBuilder,
    order: Option<&mut AddOrder>,
    scratch: &mut Scratch,
) {
    let val = scratch.value.as_str();
    let target_tpl = cfg.target_label.as_str();
    let repl_tpl = cfg.replacement.as_str();
    // Without a regex or templates the rule just writes its replacement (or deletes
    // the target when the replacement is empty); no need to run the regex.
    if val.is_empty() && cfg.regex.is_none() && !target_tpl.contains('$') && !repl_tpl.contains('$')
    {
        set(lb, order, target_tpl, repl_tpl);
        return;
    }
    let Some(caps) = cfg.regex().regex().captures(val) else {
        return;
    };
    scratch.target.clear();
    expand_into(&mut scratch.target, target_tpl, &caps);
    if !cfg.scheme().is_valid_label_name(&scratch.target) {
        return;
    }
    scratch.result.clear();
    expand_into(&mut scratch.result, repl_tpl, &caps);
    if scratch.result.is_empty() {
        del(lb, order, &scratch.target);
    } else {
        set(lb, order, &scratch.target, &scratch.result);
    }
}

fn label_map(
    cfg: &RelabelConfig,
    lb: &mut LabelsBuilder,
    mut order: Option<&mut AddOrder>,
    scratch: &mut Scratch,
) {
    let re = cfg.regex();
    // Enumerate a snapshot: labels written here must not be mapped again.
    let snapshot = match order.as_deref() {
        Some(o) => o.snapshot(lb),
        None => lb
            .iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect(),
    };
    for (name, value) in &snapshot {
        // The regex is anchored, so its one match covers the whole name and
        // replacing it is expanding the template.
        let Some(caps) = re.regex().captures(name) else {
            continue;
        };
        scratch.target.clear();
        expand_into(&mut scratch.target, &cfg.replacement, &caps);
        set(lb, order.as_deref_mut(), &scratch.target, value);
    }
}

fn filter_names(
    cfg: &RelabelConfig,
    lb: &mut LabelsBuilder,
    order: Option<&mut AddOrder>,
    keep_matching: bool,
) {
    let re = cfg.regex();
    if let Some(o) = order {
        for l in lb.iter() {
            if re.is_match(&l.name) != keep_matching {
                o.del(&l.name);
            }
        }
    }
    lb.retain(|l| re.is_match(&l.name) == keep_matching);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_mod_uses_last_eight_bytes() {
        // md5("foo") = acbd18db4cc2f85c edef654fccc4a4d8 (hex); the tail read big-endian.
        let tail = 0xedef_654f_ccc4_a4d8_u64;
        assert_eq!(hash_mod("foo", 1000), Some(tail % 1000));
        assert_eq!(hash_mod("foo", 0), None);
    }
}
