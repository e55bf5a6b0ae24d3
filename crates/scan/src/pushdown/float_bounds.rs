//! Tame doubles: values that are never NaN, infinite or `-0.0` and are computed bit for bit
//! alike by Arrow and Trino, so that comparing them gives the same answer in both engines.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, Operator};

use crate::type_class::is_signed_int;

/// Field metadata key holding a float column's [`FloatBounds`] (set by federation for columns
/// computed from exact numbers).
pub(crate) const FLOAT_BOUNDS_KEY: &str = "datafusion_athena.float_bounds";

/// What is known of a *tame* double: never NaN, infinite or `-0.0`, and computed bit for bit
/// alike by Arrow and Trino (IEEE `+ - *` of values converted exactly). Two tame doubles
/// compare alike in both engines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FloatBounds {
    /// No value's magnitude is larger.
    max: f64,
    /// No non-zero value's magnitude is smaller.
    min_nonzero: f64,
    /// Whether a value can be negative.
    negative: bool,
    /// Whether a value can be zero (always `+0.0`).
    zero: bool,
}

impl FloatBounds {
    /// Magnitudes kept away from overflow and underflow.
    const LIMIT: f64 = 1e300;

    fn checked(self) -> Option<Self> {
        (self.max <= Self::LIMIT && self.min_nonzero >= 1.0 / Self::LIMIT).then_some(self)
    }

    /// The bounds of `e`, a float expression over `schema`, when it is tame.
    pub(crate) fn of(e: &Expr, schema: &DFSchema) -> Option<Self> {
        match e {
            Expr::Alias(a) => Self::of(&a.expr, schema),
            Expr::Column(c) => schema
                .field_with_unqualified_name(&c.name)
                .ok()?
                .metadata()
                .get(FLOAT_BOUNDS_KEY)
                .and_then(|text| Self::parse(text)),
            Expr::Literal(ScalarValue::Float64(Some(v)), _) => {
                if !v.is_finite() || (*v == 0.0 && v.is_sign_negative()) {
                    return None;
                }
                Self {
                    max: v.abs(),
                    min_nonzero: if *v == 0.0 { f64::MAX } else { v.abs() },
                    negative: *v < 0.0,
                    zero: *v == 0.0,
                }
                .checked()
            }
            Expr::Cast(Cast { expr: inner, field }) if field.data_type() == &DataType::Float64 => {
                match inner.get_type(schema).ok()? {
                    t if is_signed_int(&t) => Some(Self {
                        max: 9.3e18,
                        min_nonzero: 1.0,
                        negative: true,
                        zero: true,
                    }),
                    // Exact in both engines (see `exact_decimal_casts`).
                    DataType::Decimal128(p, s) if (0..=18).contains(&s) => Self {
                        max: 10_f64.powi(i32::from(p) - i32::from(s)),
                        min_nonzero: 10_f64.powi(-i32::from(s)),
                        negative: true,
                        zero: true,
                    }
                    .checked(),
                    _ => None,
                }
            }
            Expr::Negative(inner) => {
                let b = Self::of(inner, schema)?;
                // -(+0.0) is -0.0.
                (!b.zero).then_some(Self {
                    negative: true,
                    ..b
                })
            }
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                let (a, b) = (Self::of(left, schema)?, Self::of(right, schema)?);
                match op {
                    // IEEE sums are -0.0 only from -0.0 operands; a non-zero exact sum of
                    // two doubles is at least half the smaller operand's ulp.
                    Operator::Plus | Operator::Minus => Self {
                        max: a.max + b.max,
                        min_nonzero: a.min_nonzero.min(b.min_nonzero) * f64::EPSILON / 2.0,
                        negative: *op == Operator::Minus || a.negative || b.negative,
                        zero: true,
                    }
                    .checked(),
                    // A product is -0.0 when one factor is zero and the other negative.
                    Operator::Multiply if !((a.zero && b.negative) || (b.zero && a.negative)) => {
                        Self {
                            max: a.max * b.max,
                            min_nonzero: a.min_nonzero * b.min_nonzero,
                            negative: a.negative || b.negative,
                            zero: a.zero || b.zero,
                        }
                        .checked()
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The metadata text of these bounds.
    pub(crate) fn to_text(self) -> String {
        format!(
            "{:e},{:e},{},{}",
            self.max, self.min_nonzero, self.negative, self.zero
        )
    }

    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(',');
        let b = Self {
            max: parts.next()?.parse().ok()?,
            min_nonzero: parts.next()?.parse().ok()?,
            negative: parts.next()?.parse().ok()?,
            zero: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(b).and_then(Self::checked)
    }
}
