//! Gateway filter expressions: the condition language of egress policies.
//!
//! This is the subset of Cloudflare's wirefilter-style language that Gateway egress policies use
//! (docs/gateway-semantics.md, "The filter language"): comparisons on a fixed set of fields (`net.dst.port in {443
//! 8000..8080}`, `net.src.ip == 192.0.2.0/24`, `any(identity.groups.name[*] in {"finance"})`) combined
//! with `and`/`or`/`xor`/`not` and parentheses.
//!
//! The pipeline has one module per step, each usable on its own:
//!
//! ```text
//!  text ──lexer──► tokens ──parser──► Expr (ast) ──compile + Universe──► CompiledExpr ──eval(Facts)──► bool
//!                                      ▲                                 (+ Warnings)
//!  dashboard rows ──rows──────────────┘
//! ```
//!
//! - `lexer`: tokens with byte spans and char columns; lazy, so the first error in source order wins.
//! - [`parser`]: syntax and field names only, with hard limits ([`MAX_SOURCE_LEN`], [`MAX_DEPTH`]) so
//!   that no input can panic or overflow the stack.
//! - [`ast`]: the tree, which keeps written grouping, and its canonical printing (`Display`), which
//!   parses back to the same tree.
//! - [`mod@compile`]: type checking (every type error is an [`ExprError`], never a silent non-match) and
//!   lowering to a flat node arena with names resolved to indexes of a scenario [`Universe`].
//! - [`mod@eval`]: allocation-free evaluation against borrowed per-request [`Facts`].
//! - [`rows`]: the dashboard's structured form, producing the same tree as the equivalent text.
//!
//! ```
//! # use egress_sim::policy::expr::*;
//! let expr = parse(r#"net.dst.port in {443 8000..8080} and any(identity.groups.name[*] == "finance")"#)?;
//! let universe = Universe {
//!     groups: vec![GroupDef { name: "finance".into(), id: "g1".into(), email: "fin@example.com".into() }],
//!     ..Universe::default()
//! };
//! let (compiled, warnings) = compile(&expr, &universe)?;
//! assert!(warnings.is_empty());
//! let mut groups = BitSet256::default();
//! groups.insert(0);
//! assert!(compiled.eval(&Facts { dst_port: 8080, groups, ..Facts::default() }));
//! # Ok::<(), ExprError>(())
//! ```

pub mod ast;
pub mod compile;
pub mod error;
pub mod eval;
pub mod field;
mod lexer;
pub mod parser;
pub mod rows;
mod sets;

#[cfg(test)]
mod eval_tests;
#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod proptests;

pub use ast::{CompareOp, Comparison, Expr, Literal, Rhs, Span, Value};
pub use compile::{compile, compile_str, GroupDef, Universe};
pub use error::{ExprError, Warning};
pub use eval::{CompiledExpr, Facts};
pub use field::{Field, FieldSet, ScalarType, ValueType};
pub use lexer::list_references;
pub use parser::parse;
pub use rows::{rows_to_expr, ConditionRow, Join};
pub use sets::BitSet256;

/// Longest accepted expression source, in bytes.
pub const MAX_SOURCE_LEN: usize = 16 * 1024;

/// Deepest accepted nesting, counting each parenthesis, `not`/`!` and `any(`/`all(`.
pub const MAX_DEPTH: usize = 64;
