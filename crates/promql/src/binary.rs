//! Binary operators: arithmetic, comparison (with `bool`), set operators, and
//! vector matching (`on`, `ignoring`, `group_left`, `group_right`, `fill*`).
//!
//! - this file: the operators themselves, scalar/scalar and vector/scalar;
//! - [`matching`]: vector/vector arithmetic and comparison (one-to-one,
//!   many-to-one, one-to-many, fill values);
//! - [`set`]: `and`, `or`, `unless`.

mod matching;
mod set;

use model::Sample;
use promql_parser::label::Labels as ParserLabels;
use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD,
    T_MUL, T_NEQ, T_POW, T_SUB,
};
use promql_parser::parser::{BinModifier, BinaryExpr, Expr, LabelModifier, VectorMatchCardinality};

use crate::error::{EvalError, EvalResult};
use crate::eval::Evaluator;
use crate::grouping::{KeyTable, LabelSubset, step_of};
use crate::value::{Series, Value};

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `atan2`
    Atan2,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
}

impl Op {
    /// The operator of a parser token id.
    pub fn from_token(id: u16) -> Option<Op> {
        Some(match id {
            T_ADD => Op::Add,
            T_SUB => Op::Sub,
            T_MUL => Op::Mul,
            T_DIV => Op::Div,
            T_MOD => Op::Mod,
            T_POW => Op::Pow,
            T_ATAN2 => Op::Atan2,
            T_EQLC => Op::Eq,
            T_NEQ => Op::Ne,
            T_GTR => Op::Gt,
            T_LSS => Op::Lt,
            T_GTE => Op::Ge,
            T_LTE => Op::Le,
            T_LAND => Op::And,
            T_LOR => Op::Or,
            T_LUNLESS => Op::Unless,
            _ => return None,
        })
    }

    /// True for `== != > < >= <=`.
    pub fn is_comparison(self) -> bool {
        matches!(self, Op::Eq | Op::Ne | Op::Gt | Op::Lt | Op::Ge | Op::Le)
    }

    /// True for `and or unless`.
    pub fn is_set(self) -> bool {
        matches!(self, Op::And | Op::Or | Op::Unless)
    }

    /// True for the operators whose result is no longer the input metric
    /// (Prometheus's `changesMetricSchema`): the arithmetic ones.
    pub fn is_arithmetic(self) -> bool {
        !self.is_comparison() && !self.is_set()
    }

    /// `l op r` for an arithmetic operator; for a comparison, 1 or 0.
    pub fn apply(self, l: f64, r: f64) -> f64 {
        match self {
            Op::Add => l + r,
            Op::Sub => l - r,
            Op::Mul => l * r,
            Op::Div => l / r,
            // Rust's `%` is C's fmod, as Go's math.Mod.
            Op::Mod => l % r,
            Op::Pow => l.powf(r),
            Op::Atan2 => l.atan2(r),
            _ => {
                if self.compare(l, r) {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// `l op r` for a comparison operator (false for the others).
    pub fn compare(self, l: f64, r: f64) -> bool {
        match self {
            Op::Eq => l == r,
            Op::Ne => l != r,
            Op::Gt => l > r,
            Op::Lt => l < r,
            Op::Ge => l >= r,
            Op::Le => l <= r,
            _ => false,
        }
    }

    /// Vector element operation: the value and whether the element is kept.
    /// Comparisons keep the left value when true.
    pub fn elem(self, l: f64, r: f64) -> (f64, bool) {
        if self.is_comparison() {
            (l, self.compare(l, r))
        } else {
            (self.apply(l, r), true)
        }
    }
}

/// How the two sides of a vector/vector operation are matched.
#[derive(Debug, Clone)]
pub struct Matching {
    /// The labels that make up the match signature.
    pub subset: LabelSubset,
    /// `on (...)` rather than `ignoring (...)`.
    pub on: bool,
    /// The labels listed in `on`/`ignoring`.
    pub names: Vec<String>,
    /// One-to-one, many-to-one or one-to-many (set operators: many-to-many).
    pub card: Card,
    /// `group_left (...)`/`group_right (...)` labels copied from the "one" side.
    pub include: Vec<String>,
    /// `fill_left`: value for a missing left-hand sample.
    pub fill_lhs: Option<f64>,
    /// `fill_right`: value for a missing right-hand sample.
    pub fill_rhs: Option<f64>,
}

/// Matching cardinality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Card {
    /// Default for arithmetic and comparisons.
    OneToOne,
    /// `group_left`.
    ManyToOne,
    /// `group_right`.
    OneToMany,
    /// Set operators.
    ManyToMany,
}

impl Matching {
    /// The matching of a binary expression's modifier.
    pub fn of(modifier: Option<&BinModifier>, op: Op) -> Self {
        let names_of = |l: &ParserLabels| l.labels.clone();
        let (on, names) = match modifier.and_then(|m| m.matching.as_ref()) {
            Some(LabelModifier::Include(l)) => (true, names_of(l)),
            Some(LabelModifier::Exclude(l)) => (false, names_of(l)),
            None => (false, Vec::new()),
        };
        let (card, include) = match modifier.map(|m| &m.card) {
            _ if op.is_set() => (Card::ManyToMany, Vec::new()),
            Some(VectorMatchCardinality::ManyToOne(l)) => (Card::ManyToOne, names_of(l)),
            Some(VectorMatchCardinality::OneToMany(l)) => (Card::OneToMany, names_of(l)),
            _ => (Card::OneToOne, Vec::new()),
        };
        let subset = if on {
            LabelSubset::only(&names)
        } else {
            LabelSubset::all_but(&names)
        };
        Matching {
            subset,
            on,
            names,
            card,
            include,
            fill_lhs: modifier.and_then(|m| m.fill_values.lhs),
            fill_rhs: modifier.and_then(|m| m.fill_values.rhs),
        }
    }

    /// The match signature id of every series of `lhs` and of `rhs`, numbered
    /// together so that equal ids match across the sides, and how many
    /// distinct ids there are.
    fn signatures(&self, lhs: &[Series], rhs: &[Series]) -> (Vec<u32>, Vec<u32>, usize) {
        let mut table = KeyTable::new(self.subset.clone());
        let lsig = table.ids_of(lhs);
        let rsig = table.ids_of(rhs);
        (lsig, rsig, table.len())
    }
}

/// Evaluates a binary expression (`node`, which is `b`) over all steps.
pub fn eval(ev: &Evaluator<'_>, node: &Expr, b: &BinaryExpr) -> EvalResult<Value> {
    let op = Op::from_token(b.op.id())
        .ok_or_else(|| EvalError::exec(format!("operator \"{}\" is not supported", b.op)))?;
    let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
    let lhs = ev.eval(&b.lhs)?;
    let rhs = ev.eval(&b.rhs)?;
    match (lhs, rhs) {
        (Value::Scalar(l), Value::Scalar(r)) if !op.is_set() => Ok(Value::Scalar(
            l.iter().zip(&r).map(|(&x, &y)| op.apply(x, y)).collect(),
        )),
        (Value::Vector(mut v), Value::Scalar(s)) if !op.is_set() => {
            histograms_by_scalar(ev, node, b, op, &mut v, &s, false);
            vector_scalar(ev, op, v, &s, false, return_bool).map(Value::Vector)
        }
        (Value::Scalar(s), Value::Vector(mut v)) if !op.is_set() => {
            histograms_by_scalar(ev, node, b, op, &mut v, &s, true);
            vector_scalar(ev, op, v, &s, true, return_bool).map(Value::Vector)
        }
        (Value::Vector(l), Value::Vector(r)) => {
            let m = Matching::of(b.modifier.as_ref(), op);
            let out = if op.is_set() {
                set::eval(ev, op, l, r, &m)?
            } else {
                // Prometheus adds, subtracts, compares and scales histograms
                // between vectors; not done here yet.
                let what = format!("binary operator \"{}\" between vectors", b.op);
                crate::histograms::reject(&l, &what)?;
                crate::histograms::reject(&r, &what)?;
                matching::eval(ev, op, l, r, &m, return_bool)?
            };
            Ok(Value::Vector(out))
        }
        (l, r) => Err(EvalError::exec(format!(
            "binary expression must contain only scalar and instant vector types, got {} {} {}",
            l.type_name(),
            b.op,
            r.type_name()
        ))),
    }
}

/// A vector and a scalar (`swap`: the scalar is on the left). Comparisons keep
/// the vector's value; arithmetic and `bool` drop the metric name.
fn vector_scalar(
    ev: &Evaluator<'_>,
    op: Op,
    mut v: Vec<Series>,
    scalar: &[f64],
    swap: bool,
    return_bool: bool,
) -> EvalResult<Vec<Series>> {
    let n = ev.steps.len();
    let steps = ev.steps;
    let drops_name = op.is_arithmetic() || return_bool;
    let mut relabeled = false;
    let mut mixed_marks = [false; 2];
    for (k, s) in v.iter_mut().enumerate() {
        if k % 1024 == 0 {
            ev.check_deadline()?;
        }
        s.samples.retain_mut(|p: &mut Sample| {
            let Some(x) = step_of(&steps, p.t, n).and_then(|i| scalar.get(i)) else {
                return false;
            };
            let (l, r) = if swap { (*x, p.v) } else { (p.v, *x) };
            let (value, keep) = if op.is_comparison() {
                (p.v, op.compare(l, r))
            } else {
                (op.apply(l, r), true)
            };
            if return_bool {
                p.v = if keep { 1.0 } else { 0.0 };
                return true;
            }
            p.v = value;
            keep
        });
        if drops_name {
            // With delayed removal, a marked and an unmarked series of equal
            // labels become one identity; without, a dropped name can collide.
            mixed_marks[usize::from(s.drop_name)] = true;
            relabeled |= drop_metadata(ev, s);
        }
    }
    v.retain(|s| !s.is_empty());
    // Only series whose labels changed can collide now.
    if relabeled || mixed_marks == [true; 2] {
        ev.dedup(v)
    } else {
        Ok(v)
    }
}

/// The histogram samples of a vector/scalar operation (`swap`: the scalar is
/// on the left), as Prometheus's `vectorElemBinop` treats them: `h * s`,
/// `s * h` and `h / s` scale the histogram (the result compacted, the name
/// dropped); every other operator drops the sample with an info. The float
/// samples, the name and empty series are left to [`vector_scalar`].
fn histograms_by_scalar(
    ev: &Evaluator<'_>,
    node: &Expr,
    b: &BinaryExpr,
    op: Op,
    v: &mut [Series],
    scalar: &[f64],
    swap: bool,
) {
    let scales = match op {
        Op::Mul => true,
        Op::Div => !swap,
        _ => false,
    };
    let steps = ev.steps;
    let n = steps.len();
    let mut incompatible = false;
    for s in v.iter_mut().filter(|s| !s.histograms.is_empty()) {
        if !scales {
            incompatible = true;
            s.histograms.clear();
            continue;
        }
        s.histograms.retain_mut(|p| {
            let Some(&x) = step_of(&steps, p.t, n).and_then(|i| scalar.get(i)) else {
                return false;
            };
            // Copies the histogram only when it is shared.
            let h = std::sync::Arc::make_mut(&mut p.h);
            if op == Op::Mul {
                h.mul(x);
            } else {
                h.div(x);
            }
            h.compact(0);
            true
        });
    }
    if incompatible {
        let (l, r) = if swap {
            ("float", "histogram")
        } else {
            ("histogram", "float")
        };
        let text = crate::histograms::incompatible_in_binop(l, &b.op.to_string(), r);
        ev.info(&text, node);
    }
}

pub(crate) use crate::eval::METADATA_LABELS;

/// Drops the metadata labels of an operator's result now, or marks the series
/// for the end of the query with delayed name removal. True when the labels
/// changed.
fn drop_metadata(ev: &Evaluator<'_>, s: &mut Series) -> bool {
    if ev.opts().delayed_name_removal {
        s.drop_name = true;
        return false;
    }
    let before = s.labels.len();
    crate::eval::drop_metadata_labels(&mut s.labels);
    s.labels.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_operations() {
        assert_eq!(Op::Mod.apply(-7.0, 3.0), -1.0);
        assert!(Op::Mod.apply(1.0, 0.0).is_nan());
        assert_eq!(Op::Mod.apply(5.0, f64::INFINITY), 5.0);
        assert_eq!(Op::Pow.apply(1.0, f64::NAN), 1.0);
        assert_eq!(Op::Pow.apply(-1.0, f64::INFINITY), 1.0);
        assert_eq!(Op::Gt.elem(3.0, 2.0), (3.0, true));
        assert!(!Op::Eq.elem(f64::NAN, f64::NAN).1);
        assert_eq!(Op::Ne.apply(f64::NAN, f64::NAN), 1.0);
        assert!((Op::Atan2.apply(10.0, 20.0) - 0.4636476090008061).abs() < 1e-15);
        assert!(Op::Add.is_arithmetic() && !Op::Le.is_arithmetic() && !Op::Or.is_arithmetic());
    }

    #[test]
    fn matching_of_modifiers() {
        let m = Matching::of(None, Op::Add);
        assert_eq!(m.card, Card::OneToOne);
        assert_eq!(m.subset, LabelSubset::all_but::<&str>(&[]));
        let e = promql_parser::parser::parse("a + on(x) group_right(y) fill_left(2) b")
            .expect("parses");
        let promql_parser::parser::Expr::Binary(b) = e else {
            panic!("binary")
        };
        let m = Matching::of(b.modifier.as_ref(), Op::Add);
        assert_eq!(m.card, Card::OneToMany);
        assert!(m.on);
        assert_eq!(m.include, ["y"]);
        assert_eq!((m.fill_lhs, m.fill_rhs), (Some(2.0), None));
        assert_eq!(
            Matching::of(b.modifier.as_ref(), Op::And).card,
            Card::ManyToMany
        );
    }
}

#[cfg(test)]
pub(crate) mod engine_tests;
