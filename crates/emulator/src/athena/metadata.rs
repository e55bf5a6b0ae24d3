//! The `<id>.csv.metadata` object: protobuf, encoded by hand.
//!
//! Field 1 query id, 2 update type, 3 update count, 4 repeated column
//! {1 catalog "hive", 2 schema, 3 table, 4 name, 5 label, 6 type, 7 precision, 8 scale,
//! 9 nullable (3 = UNKNOWN), 10 case sensitive}.

use super::query::ColumnInfo;

/// Encodes the metadata of a finished query.
pub(crate) fn encode(
    query_id: &str,
    update_type: &str,
    update_count: u64,
    columns: &[ColumnInfo],
) -> Vec<u8> {
    let mut out = Vec::new();
    put_string(&mut out, 1, query_id);
    put_string(&mut out, 2, update_type);
    if update_count > 0 {
        put_varint_field(&mut out, 3, update_count);
    }
    for column in columns {
        let mut c = Vec::new();
        put_string(&mut c, 1, "hive");
        put_string(&mut c, 2, "");
        put_string(&mut c, 3, "");
        put_string(&mut c, 4, &column.name);
        put_string(&mut c, 5, &column.label);
        put_string(&mut c, 6, &column.athena_type.name);
        put_varint_field(&mut c, 7, column.athena_type.precision as u64);
        put_varint_field(&mut c, 8, column.athena_type.scale as u64);
        put_varint_field(&mut c, 9, 3);
        put_varint_field(&mut c, 10, u64::from(column.athena_type.case_sensitive));
        put_bytes(&mut out, 4, &c);
    }
    out
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_varint_field(out: &mut Vec<u8>, field: u64, value: u64) {
    if value == 0 {
        return;
    }
    put_varint(out, field << 3);
    put_varint(out, value);
}

fn put_string(out: &mut Vec<u8>, field: u64, value: &str) {
    if !value.is_empty() {
        put_bytes(out, field, value.as_bytes());
    }
}

fn put_bytes(out: &mut Vec<u8>, field: u64, value: &[u8]) {
    put_varint(out, (field << 3) | 2);
    put_varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

/// A minimal decoder for tests: `(field, wire value)` pairs of one message level.
#[cfg(test)]
pub(crate) fn decode_fields(mut bytes: &[u8]) -> Vec<(u64, Result<u64, Vec<u8>>)> {
    fn varint(bytes: &mut &[u8]) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = bytes[0];
            *bytes = &bytes[1..];
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }
    let mut fields = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes);
        match key & 7 {
            0 => fields.push((key >> 3, Ok(varint(&mut bytes)))),
            2 => {
                let len = varint(&mut bytes) as usize;
                fields.push((key >> 3, Err(bytes[..len].to_vec())));
                bytes = &bytes[len..];
            }
            other => panic!("unexpected wire type {other}"),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::athena_type;
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn varints_and_columns() {
        let mut v = Vec::new();
        put_varint(&mut v, 300);
        assert_eq!(v, [0xac, 0x02]);
        let columns = vec![ColumnInfo {
            name: "s".into(),
            label: "s".into(),
            athena_type: athena_type(&DataType::Utf8),
        }];
        let bytes = encode("abc", "", 0, &columns);
        let fields = decode_fields(&bytes);
        assert_eq!(fields[0], (1, Err(b"abc".to_vec())));
        let (4, Err(column)) = &fields[1] else {
            panic!("{fields:?}")
        };
        let column = decode_fields(column);
        assert_eq!(column[0], (1, Err(b"hive".to_vec())));
        assert!(column.contains(&(6, Err(b"varchar".to_vec()))));
        assert!(column.contains(&(7, Ok(2_147_483_647))));
        assert!(column.contains(&(9, Ok(3))));
        assert!(column.contains(&(10, Ok(1))));
    }
}
