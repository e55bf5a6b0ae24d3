//! The range of values an integer expression can take, from its types and literals alone:
//! integer `+ - *`, negation and `abs` are pushed only when the result provably fits its type.
//! On overflow DataFusion wraps around while Trino fails the query, so an expression that could
//! overflow would turn an answer into an Athena error.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, Operator};

/// The least and greatest value of an integer expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntRange {
    lo: i128,
    hi: i128,
}

impl IntRange {
    /// Every value of the signed integer type `t`.
    fn of_type(t: &DataType) -> Option<Self> {
        let bits = match t {
            DataType::Int8 => 8,
            DataType::Int16 => 16,
            DataType::Int32 => 32,
            DataType::Int64 => 64,
            _ => return None,
        };
        Some(Self {
            lo: -(1i128 << (bits - 1)),
            hi: (1i128 << (bits - 1)) - 1,
        })
    }

    /// Whether every value of `self` is a value of type `t`.
    fn fits(self, t: &DataType) -> bool {
        Self::of_type(t).is_some_and(|r| r.lo <= self.lo && self.hi <= r.hi)
    }

    /// The range of `e`, an expression over `schema`, when it is a signed integer whose every
    /// intermediate result fits its type; `None` otherwise (or when nothing is known).
    pub(crate) fn of(e: &Expr, schema: &DFSchema) -> Option<Self> {
        let range = match e {
            Expr::Alias(a) => return Self::of(&a.expr, schema),
            Expr::Literal(v, _) => {
                let v = match v {
                    ScalarValue::Int8(Some(v)) => i128::from(*v),
                    ScalarValue::Int16(Some(v)) => i128::from(*v),
                    ScalarValue::Int32(Some(v)) => i128::from(*v),
                    ScalarValue::Int64(Some(v)) => i128::from(*v),
                    _ => return None,
                };
                Self { lo: v, hi: v }
            }
            Expr::Column(_) => Self::of_type(&e.get_type(schema).ok()?)?,
            Expr::Cast(Cast { expr, .. }) => Self::of(expr, schema)?,
            Expr::Negative(inner) => {
                let r = Self::of(inner, schema)?;
                Self {
                    lo: -r.hi,
                    hi: -r.lo,
                }
            }
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                let (a, b) = (Self::of(left, schema)?, Self::of(right, schema)?);
                match op {
                    Operator::Plus => Self {
                        lo: a.lo + b.lo,
                        hi: a.hi + b.hi,
                    },
                    Operator::Minus => Self {
                        lo: a.lo - b.hi,
                        hi: a.hi - b.lo,
                    },
                    // |values| < 2^64, so products stay within i128.
                    Operator::Multiply => {
                        let p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
                        Self {
                            lo: *p.iter().min()?,
                            hi: *p.iter().max()?,
                        }
                    }
                    _ => return None,
                }
            }
            Expr::ScalarFunction(ScalarFunction { func, args }) if func.name() == "abs" => {
                let r = Self::of(args.first()?, schema)?;
                Self {
                    lo: if r.lo <= 0 && r.hi >= 0 {
                        0
                    } else {
                        r.lo.abs().min(r.hi.abs())
                    },
                    hi: r.lo.abs().max(r.hi.abs()),
                }
            }
            _ => return None,
        };
        // The value must fit the type DataFusion (and the SQL sent) gives the expression.
        range.fits(&e.get_type(schema).ok()?).then_some(range)
    }
}

/// Whether the integer expression `e` cannot overflow (see [`IntRange::of`]).
pub(crate) fn cannot_overflow(e: &Expr, schema: &DFSchema) -> bool {
    IntRange::of(e, schema).is_some()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::functions::expr_fn::abs;
    use datafusion::logical_expr::{cast, ident, lit};

    use super::*;

    fn schema() -> DFSchema {
        DFSchema::try_from(Schema::new(vec![
            Field::new("t", DataType::Int8, true),
            Field::new("s", DataType::Int16, true),
            Field::new("i", DataType::Int32, true),
            Field::new("b", DataType::Int64, true),
        ]))
        .unwrap()
    }

    fn ok(e: Expr) -> bool {
        cannot_overflow(&e, &schema())
    }

    #[test]
    fn sums_products_and_negations_are_pushed_only_when_they_fit() {
        let _ = Arc::new(0);
        let wide = |c: &str| cast(ident(c), DataType::Int64);
        // A 32-bit value widened to bigint, plus or times a small literal, fits.
        assert!(ok(wide("i") + lit(1i64)));
        assert!(ok(wide("i") * lit(2i64)));
        assert!(ok(wide("i") * wide("i")));
        assert!(ok(
            cast(ident("s"), DataType::Int32) + cast(ident("t"), DataType::Int32)
        ));
        assert!(ok(abs(wide("i"))));
        assert!(ok(-wide("i")));
        // Same-width arithmetic can overflow.
        assert!(!ok(ident("i") + ident("i")));
        assert!(!ok(ident("b") - lit(1i64)));
        assert!(!ok(-ident("i")));
        assert!(!ok(-ident("b")));
        assert!(!ok(abs(ident("b"))));
        assert!(!ok(wide("i") * wide("i") * wide("i")));
        // A literal sum that fits does.
        assert!(ok(lit(i64::MAX - 1) + lit(1i64)));
        assert!(!ok(lit(i64::MAX) + lit(1i64)));
    }
}
