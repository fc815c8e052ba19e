//! A small writer of MaxMind DB (`.mmdb`) files, for tests, benchmarks and the shipped synthetic
//! fixture. Not part of the supported API.
//!
//! The format (MaxMind DB File Format Specification 2.0):
//!
//! 1. a binary search tree over the address bits, `node_count` nodes of two records each; a record is
//!    24, 28 or 32 bits and holds a node number (`< node_count`), "no data" (`== node_count`), or a
//!    pointer into the data section (`node_count + 16 + offset`);
//! 2. 16 zero bytes;
//! 3. the data section: values in MaxMind's type encoding (a control byte with the type in the top
//!    three bits and the size in the low five, extended types and sizes in following bytes);
//!    identical maps, arrays and strings are written once and referred to by pointers, as MaxMind's
//!    own writer does;
//! 4. `\xAB\xCD\xEFMaxMind.com` and the metadata map (`node_count`, `record_size`, `ip_version`,
//!    `database_type`, ...).
//!
//! IPv4 networks in an IPv6 tree live under `::/96`, where readers look for them. No aliases
//! (`::ffff:0:0/96`, `2002::/16`) are written: egress-sim maps IPv4-mapped addresses to IPv4 itself.

use std::collections::HashMap;
use std::net::IpAddr;

/// A value in a MaxMind DB data section.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// UTF-8 string.
    String(String),
    /// 64-bit float.
    Double(f64),
    /// Unsigned 16-bit integer.
    U16(u16),
    /// Unsigned 32-bit integer.
    U32(u32),
    /// Unsigned 64-bit integer.
    U64(u64),
    /// Boolean.
    Bool(bool),
    /// Map with string keys, in this order.
    Map(Vec<(String, Value)>),
    /// Array.
    Array(Vec<Value>),
}

impl Value {
    /// A map from `(key, value)` pairs.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
}

const EMPTY: u32 = 0;
const DATA: u32 = 0x8000_0000;
const MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";

/// Builds a database in memory; [`Writer::to_bytes`] serialises it.
#[derive(Debug, Clone)]
pub struct Writer {
    database_type: String,
    description: String,
    ip_version: u16,
    build_epoch: u64,
    /// Child pointers per node: `EMPTY`, a node number, or `DATA | record`.
    nodes: Vec<[u32; 2]>,
    records: Vec<Value>,
}

impl Writer {
    /// A database of `database_type` (`GeoIP2-City`, `GeoLite2-Country`, ...) over IPv4 only
    /// (`ip_version` 4) or IPv6 with IPv4 under `::/96` (`ip_version` 6).
    pub fn new(database_type: &str, ip_version: u16) -> Self {
        assert!(ip_version == 4 || ip_version == 6, "ip_version is 4 or 6");
        Self {
            database_type: database_type.to_string(),
            description: format!("{database_type} (synthetic test data)"),
            ip_version,
            build_epoch: 1_700_000_000,
            nodes: vec![[EMPTY; 2]],
            records: Vec::new(),
        }
    }

    /// Sets the English description in the metadata.
    pub fn description(&mut self, text: &str) -> &mut Self {
        self.description = text.to_string();
        self
    }

    /// Adds a data record; returns its number for [`insert`](Self::insert).
    pub fn add_record(&mut self, value: Value) -> u32 {
        self.records.push(value);
        (self.records.len() - 1) as u32
    }

    /// Number of tree nodes so far.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Points `addr/prefix` at `record`. A later, more specific network splits an earlier one; a later
    /// network covering earlier, more specific ones replaces them.
    pub fn insert(&mut self, addr: IpAddr, prefix: u8, record: u32) -> Result<(), String> {
        if record as usize >= self.records.len() {
            return Err(format!("record {record} was not added"));
        }
        let (key, bits): (u128, u8) = match (addr, self.ip_version) {
            (IpAddr::V4(a), 4) => (u128::from(u32::from(a)) << 96, prefix),
            (IpAddr::V4(a), _) => (u128::from(u32::from(a)), prefix + 96),
            (IpAddr::V6(_), 4) => return Err("IPv6 network in an IPv4 database".into()),
            (IpAddr::V6(a), _) => (u128::from(a), prefix),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix == 0 || prefix > max {
            return Err(format!("prefix length {prefix} must be 1..={max}"));
        }
        // The key is left-aligned: in an IPv4 database the address fills the top 32 bits, in an IPv6
        // database all 128 (IPv4 under `::/96`). Bit `i` from the top decides the branch at depth `i`.
        let bit_at = |i: u8| ((key >> (127 - u32::from(i))) & 1) as usize;
        let mut node = 0usize;
        for i in 0..bits {
            let b = bit_at(i);
            if i + 1 == bits {
                self.nodes[node][b] = DATA | record;
                break;
            }
            let child = self.nodes[node][b];
            node = if child == EMPTY || child & DATA != 0 {
                self.nodes.push([child, child]);
                let n = (self.nodes.len() - 1) as u32;
                self.nodes[node][b] = n;
                n as usize
            } else {
                child as usize
            };
        }
        Ok(())
    }

    /// The complete `.mmdb` file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut data = DataSection::default();
        let offsets: Vec<usize> = self.records.iter().map(|r| data.write(r)).collect();
        let node_count = self.nodes.len() as u64;
        let value_of = |c: u32| -> u64 {
            if c == EMPTY {
                node_count
            } else if c & DATA != 0 {
                node_count + 16 + offsets[(c & !DATA) as usize] as u64
            } else {
                u64::from(c)
            }
        };
        let max = node_count + 16 + data.bytes.len() as u64;
        let record_size: u16 = if max < 1 << 24 {
            24
        } else if max < 1 << 28 {
            28
        } else {
            32
        };
        let mut out = Vec::with_capacity(
            self.nodes.len() * record_size as usize / 4 + data.bytes.len() + 512,
        );
        for n in &self.nodes {
            let (l, r) = (value_of(n[0]) as u32, value_of(n[1]) as u32);
            match record_size {
                24 => {
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                28 => {
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    out.push((((l >> 24) & 0x0f) << 4) as u8 | ((r >> 24) & 0x0f) as u8);
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                _ => {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
        }
        out.extend_from_slice(&[0u8; 16]);
        out.extend_from_slice(&data.bytes);
        out.extend_from_slice(MARKER);
        let meta = Value::map([
            ("binary_format_major_version", Value::U16(2)),
            ("binary_format_minor_version", Value::U16(0)),
            ("build_epoch", Value::U64(self.build_epoch)),
            ("database_type", Value::str(&self.database_type)),
            (
                "description",
                Value::map([("en", Value::str(&self.description))]),
            ),
            ("ip_version", Value::U16(self.ip_version)),
            ("languages", Value::Array(vec![Value::str("en")])),
            ("node_count", Value::U32(node_count as u32)),
            ("record_size", Value::U16(record_size)),
        ]);
        encode_inline(&meta, &mut out);
        out
    }
}

/// The data section being written, with identical values stored once.
#[derive(Default)]
struct DataSection {
    bytes: Vec<u8>,
    seen: HashMap<Vec<u8>, usize>,
}

impl DataSection {
    /// Writes `v` (maps, arrays and strings of its children as pointers to shared copies) and returns
    /// its offset.
    fn write(&mut self, v: &Value) -> usize {
        let mut buf = Vec::new();
        self.encode(v, &mut buf);
        self.intern(buf)
    }

    fn intern(&mut self, buf: Vec<u8>) -> usize {
        if let Some(&o) = self.seen.get(&buf) {
            return o;
        }
        let o = self.bytes.len();
        self.bytes.extend_from_slice(&buf);
        self.seen.insert(buf, o);
        o
    }

    fn encode(&mut self, v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Map(pairs) => {
                control(out, 7, pairs.len());
                for (k, v) in pairs {
                    self.child(&Value::String(k.clone()), out);
                    self.child(v, out);
                }
            }
            Value::Array(items) => {
                control(out, 11, items.len());
                for v in items {
                    self.child(v, out);
                }
            }
            other => encode_inline(other, out),
        }
    }

    /// A nested value: containers and longer strings become pointers to one shared copy.
    fn child(&mut self, v: &Value, out: &mut Vec<u8>) {
        let shared = match v {
            Value::Map(_) | Value::Array(_) => true,
            Value::String(s) => s.len() >= 4,
            _ => false,
        };
        if shared {
            let o = self.write(v);
            pointer(out, o);
        } else {
            self.encode(v, out);
        }
    }
}

/// Encodes `v` without pointers (used for the metadata, and for scalars everywhere).
fn encode_inline(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::String(s) => {
            control(out, 2, s.len());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Double(x) => {
            control(out, 3, 8);
            out.extend_from_slice(&x.to_be_bytes());
        }
        Value::U16(x) => uint(out, 5, u64::from(*x)),
        Value::U32(x) => uint(out, 6, u64::from(*x)),
        Value::U64(x) => uint(out, 9, *x),
        Value::Bool(b) => control(out, 14, usize::from(*b)),
        Value::Map(pairs) => {
            control(out, 7, pairs.len());
            for (k, v) in pairs {
                encode_inline(&Value::String(k.clone()), out);
                encode_inline(v, out);
            }
        }
        Value::Array(items) => {
            control(out, 11, items.len());
            for v in items {
                encode_inline(v, out);
            }
        }
    }
}

/// An unsigned integer of type `t` in as few big-endian bytes as it needs.
fn uint(out: &mut Vec<u8>, t: u8, x: u64) {
    let bytes = x.to_be_bytes();
    let n = 8 - (x.leading_zeros() / 8) as usize;
    control(out, t, n);
    out.extend_from_slice(&bytes[8 - n..]);
}

/// Control byte(s) for type `t` and payload size `size`.
fn control(out: &mut Vec<u8>, t: u8, size: usize) {
    let (low, extra): (u8, Vec<u8>) = if size < 29 {
        (size as u8, vec![])
    } else if size < 29 + 256 {
        (29, vec![(size - 29) as u8])
    } else if size < 285 + 65_536 {
        (30, ((size - 285) as u16).to_be_bytes().to_vec())
    } else {
        (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec())
    };
    if t <= 7 {
        out.push(t << 5 | low);
    } else {
        out.push(low);
        out.push(t - 7);
    }
    out.extend_from_slice(&extra);
}

/// A pointer to `offset` in the data section.
fn pointer(out: &mut Vec<u8>, offset: usize) {
    if offset < 2048 {
        out.push(0x20 | (offset >> 8) as u8);
        out.push(offset as u8);
    } else if offset < 2048 + 524_288 {
        let p = offset - 2048;
        out.push(0x28 | (p >> 16) as u8);
        out.extend_from_slice(&(p as u32).to_be_bytes()[2..]);
    } else if offset < 526_336 + 134_217_728 {
        let p = offset - 526_336;
        out.push(0x30 | (p >> 24) as u8);
        out.extend_from_slice(&(p as u32).to_be_bytes()[1..]);
    } else {
        out.push(0x38);
        out.extend_from_slice(&(offset as u32).to_be_bytes());
    }
}
