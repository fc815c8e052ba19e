//! First-match policy evaluation for generated users against a compiled [`World`](crate::world::World).
//!
//! - [`facts`]: what a policy can test about a (user, destination, IP version);
//! - [`matcher`]: first-match evaluation, with results cached per class of users so that even long
//!   policy lists cost little per request.
//!
//! It sits above `policy` (the language and the compiled policies the World holds), `world` and
//! `users`, and below `engine` and `explain`, which ask it which policy decides.

pub mod facts;
pub mod matcher;
